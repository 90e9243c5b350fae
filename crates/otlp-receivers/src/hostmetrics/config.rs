//! `receivers: hostmetrics:` — otelcol-contrib's keys and defaults (v0.160.0): the scraper
//! controller's `collection_interval` / `initial_delay` / `timeout`, `root_path`,
//! `metadata_collection_interval` and `scrapers: {NAME: {...}}` with each scraper's own keys.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize};
use serde_yaml_ng::Value;

use otlp_pipeline::config::{ConfigError, duration};
use otlp_pipeline::factory::ComponentConfig;

use super::metric::{MetricDef, Strategy};

/// `receivers: hostmetrics:`.
///
/// ```yaml
/// hostmetrics:
///   collection_interval: 30s
///   scrapers:
///     cpu:
///     memory:
///       metrics:
///         system.memory.utilization: {enabled: true}
///     filesystem:
///       exclude_fs_types: {fs_types: [tmpfs], match_type: strict}
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostMetricsConfig {
    /// Time between scrapes (default 1 m).
    #[serde(with = "duration")]
    pub collection_interval: Duration,
    /// Delay before the first scrape (default 1 s).
    #[serde(with = "duration")]
    pub initial_delay: Duration,
    /// Accepted (default 0: none); a scrape reads local files and is not cut short.
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// Where the host's root file system is mounted (`/hostfs`): `/proc`, `/sys`, `/etc`
    /// and the mount points are read below it. Empty: `/`.
    pub root_path: String,
    /// Accepted (default 5 m); entity metadata (logs) is not emitted.
    #[serde(with = "duration")]
    pub metadata_collection_interval: Duration,
    /// The scrapers, each with its own settings (`cpu:` with nothing under it is enabled
    /// with its defaults).
    #[serde(deserialize_with = "otlp_pipeline::config::fields::null_as_empty")]
    pub scrapers: ScrapersConfig,
}

impl Default for HostMetricsConfig {
    fn default() -> Self {
        HostMetricsConfig {
            collection_interval: Duration::from_secs(60),
            initial_delay: Duration::from_secs(1),
            timeout: Duration::ZERO,
            root_path: String::new(),
            metadata_collection_interval: Duration::from_secs(300),
            scrapers: ScrapersConfig::default(),
        }
    }
}

/// A scraper key present (even with nothing under it) means enabled.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Some(
        Option::<T>::deserialize(deserializer)?.unwrap_or_default(),
    ))
}

macro_rules! scrapers {
    ($($name:ident: $ty:ty),* $(,)?) => {
        /// `scrapers:` — every scraper the Go receiver has on Linux but `nfs`.
        #[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct ScrapersConfig {
            $(
                #[doc = concat!("`", stringify!($name), ":`")]
                #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
                pub $name: Option<$ty>,
            )*
            /// The Go receiver's `nfs` scraper: refused (not implemented).
            #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
            pub nfs: Option<Value>,
        }

        impl ScrapersConfig {
            /// How many scrapers are configured.
            pub fn count(&self) -> usize {
                0 $(+ usize::from(self.$name.is_some()))*
            }
        }
    };
}

scrapers! {
    cpu: CpuConfig,
    disk: DiskConfig,
    filesystem: FilesystemConfig,
    load: LoadConfig,
    memory: MemoryConfig,
    network: NetworkConfig,
    paging: PagingConfig,
    processes: ProcessesConfig,
    process: ProcessConfig,
    system: SystemConfig,
}

/// `metrics: {NAME: {...}}` entry (mdatagen's metric settings).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSetting {
    /// Emit the metric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The attribute keys kept; points that become equal are merged by
    /// `aggregation_strategy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<String>>,
    /// `sum`, `avg`, `min` or `max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_strategy: Option<String>,
}

/// `resource_attributes: {NAME: {enabled: bool}}` entry.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceAttributeSetting {
    /// Put the attribute on the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Accepted (mdatagen's include/exclude filters are not applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_include: Option<Value>,
    /// Accepted (see `metrics_include`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_exclude: Option<Value>,
}

/// Settings per metric name.
pub type MetricsSettings = BTreeMap<String, MetricSetting>;

macro_rules! simple_scraper {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            /// Per-metric settings.
            #[serde(deserialize_with = "otlp_pipeline::config::fields::null_as_empty")]
            pub metrics: MetricsSettings,
        }
    };
}

simple_scraper!(
    /// `scrapers: cpu:`.
    CpuConfig
);
simple_scraper!(
    /// `scrapers: memory:`.
    MemoryConfig
);
simple_scraper!(
    /// `scrapers: paging:`.
    PagingConfig
);
simple_scraper!(
    /// `scrapers: processes:`.
    ProcessesConfig
);
simple_scraper!(
    /// `scrapers: system:`.
    SystemConfig
);

/// `scrapers: load:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoadConfig {
    /// Divide the load averages by the number of logical CPUs.
    pub cpu_average: bool,
    /// Per-metric settings.
    #[serde(deserialize_with = "otlp_pipeline::config::fields::null_as_empty")]
    pub metrics: MetricsSettings,
}

macro_rules! match_config {
    ($(#[$doc:meta])* $name:ident, $field:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            /// The names or patterns.
            pub $field: Vec<String>,
            /// `strict` or `regexp` (required when the list is not empty).
            pub match_type: String,
            /// Accepted (the regexp cache settings).
            #[serde(skip_serializing_if = "Option::is_none")]
            pub regexp: Option<Value>,
        }

        impl $name {
            pub(crate) fn compile(&self, path: &str) -> Result<Option<Filter>, ConfigError> {
                Filter::compile(&self.$field, &self.match_type, path, stringify!($field))
            }
        }
    };
}

match_config!(
    /// A device filter (`devices`).
    DeviceMatch,
    devices
);
match_config!(
    /// A network interface filter (`interfaces`).
    InterfaceMatch,
    interfaces
);
match_config!(
    /// A file system type filter (`fs_types`).
    FsTypeMatch,
    fs_types
);
match_config!(
    /// A mount point filter (`mount_points`).
    MountPointMatch,
    mount_points
);
match_config!(
    /// A process name filter (`names`).
    NameMatch,
    names
);

/// A compiled filter set (otelcol's `filterset`): exact names, or unanchored regular
/// expressions.
#[derive(Debug, Clone)]
pub(crate) enum Filter {
    Strict(HashSet<String>),
    Regexp(Vec<Regex>),
}

impl Filter {
    fn compile(
        items: &[String],
        match_type: &str,
        path: &str,
        field: &str,
    ) -> Result<Option<Filter>, ConfigError> {
        if items.is_empty() {
            return Ok(None);
        }
        match match_type {
            "strict" => Ok(Some(Filter::Strict(items.iter().cloned().collect()))),
            "regexp" => items
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    Regex::new(p).map_err(|e| {
                        ConfigError::bad_value(format!("{path}::{field}[{i}]"), e.to_string())
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|r| Some(Filter::Regexp(r))),
            other => Err(ConfigError::bad_value(
                format!("{path}::match_type"),
                format!("unrecognized match_type: '{other}', valid types are: [regexp strict]"),
            )),
        }
    }

    pub(crate) fn matches(&self, name: &str) -> bool {
        match self {
            Filter::Strict(set) => set.contains(name),
            Filter::Regexp(list) => list.iter().any(|r| r.is_match(name)),
        }
    }
}

/// An include and an exclude filter: included when in `include` (or no include) and not in
/// `exclude`.
#[derive(Debug, Clone, Default)]
pub(crate) struct IncludeExclude {
    pub include: Option<Filter>,
    pub exclude: Option<Filter>,
}

impl IncludeExclude {
    pub(crate) fn allows(&self, name: &str) -> bool {
        self.include.as_ref().is_none_or(|f| f.matches(name))
            && self.exclude.as_ref().is_none_or(|f| !f.matches(name))
    }
}

/// `scrapers: disk:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiskConfig {
    /// Per-metric settings.
    #[serde(deserialize_with = "otlp_pipeline::config::fields::null_as_empty")]
    pub metrics: MetricsSettings,
    /// Devices to include (`devices`, `match_type`).
    pub include: DeviceMatch,
    /// Devices to exclude.
    pub exclude: DeviceMatch,
}

/// `scrapers: network:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    /// Per-metric settings.
    #[serde(deserialize_with = "otlp_pipeline::config::fields::null_as_empty")]
    pub metrics: MetricsSettings,
    /// Interfaces to include (`interfaces`, `match_type`).
    pub include: InterfaceMatch,
    /// Interfaces to exclude.
    pub exclude: InterfaceMatch,
}

/// `scrapers: filesystem:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilesystemConfig {
    /// Per-metric settings.
    #[serde(deserialize_with = "otlp_pipeline::config::fields::null_as_empty")]
    pub metrics: MetricsSettings,
    /// Also report file systems without a device (`tmpfs`, `proc`, …: the `nodev` types of
    /// `/proc/filesystems`).
    pub include_virtual_filesystems: bool,
    /// Devices to include.
    pub include_devices: DeviceMatch,
    /// Devices to exclude.
    pub exclude_devices: DeviceMatch,
    /// File system types to include.
    pub include_fs_types: FsTypeMatch,
    /// File system types to exclude.
    pub exclude_fs_types: FsTypeMatch,
    /// Mount points (the host's view) to include.
    pub include_mount_points: MountPointMatch,
    /// Mount points to exclude.
    pub exclude_mount_points: MountPointMatch,
}

/// `scrapers: process:`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProcessConfig {
    /// Per-metric settings.
    #[serde(deserialize_with = "otlp_pipeline::config::fields::null_as_empty")]
    pub metrics: MetricsSettings,
    /// Per-resource-attribute settings (`process.pid`, …).
    #[serde(deserialize_with = "otlp_pipeline::config::fields::null_as_empty")]
    pub resource_attributes: BTreeMap<String, ResourceAttributeSetting>,
    /// Process names to include (`names`, `match_type`).
    pub include: NameMatch,
    /// Process names to exclude.
    pub exclude: NameMatch,
    /// Count no per-process error at all.
    pub mute_process_all_errors: bool,
    /// Do not count a process whose name cannot be read.
    pub mute_process_name_error: bool,
    /// Do not count unreadable `/proc/PID/io`.
    pub mute_process_io_error: bool,
    /// Do not count unreadable `/proc/PID/cgroup`.
    pub mute_process_cgroup_error: bool,
    /// Do not count unreadable `/proc/PID/exe`.
    pub mute_process_exe_error: bool,
    /// Do not count a uid with no user name.
    pub mute_process_user_error: bool,
    /// Skip processes younger than this (default 0).
    #[serde(with = "duration")]
    pub scrape_process_delay: Duration,
}

/// Checks one scraper's `metrics:` against its catalogue.
pub(crate) fn validate_metrics(
    path: &str,
    settings: &MetricsSettings,
    catalogue: &[MetricDef],
) -> Result<(), ConfigError> {
    for (name, setting) in settings {
        let at = format!("{path}::metrics::{name}");
        let Some(def) = catalogue.iter().find(|d| d.name == name) else {
            let known: Vec<&str> = catalogue.iter().map(|d| d.name).collect();
            return Err(ConfigError::bad_value(
                at,
                format!(
                    "unknown metric `{name}`, expected one of {}",
                    known.join(", ")
                ),
            ));
        };
        if setting.enabled == Some(true) && !def.supported {
            return Err(ConfigError::bad_value(
                format!("{at}::enabled"),
                format!("`{name}` is not supported by this receiver"),
            ));
        }
        if def.attributes.is_empty()
            && (setting.attributes.is_some() || setting.aggregation_strategy.is_some())
        {
            return Err(ConfigError::bad_value(
                at,
                format!(
                    "`{name}` has no attributes: `attributes` and `aggregation_strategy` do not apply"
                ),
            ));
        }
        for key in setting.attributes.iter().flatten() {
            if !def.attributes.contains(&key.as_str()) {
                return Err(ConfigError::bad_value(
                    format!("{at}::attributes"),
                    format!(
                        "metric {name} doesn't have an attribute {key}, valid attributes: [{}]",
                        def.attributes.join(", ")
                    ),
                ));
            }
        }
        if let Some(strategy) = &setting.aggregation_strategy
            && Strategy::parse(strategy).is_none()
        {
            return Err(ConfigError::bad_value(
                format!("{at}::aggregation_strategy"),
                format!(
                    "invalid aggregation strategy {strategy:?}, valid strategies: [sum, avg, min, max]"
                ),
            ));
        }
    }
    Ok(())
}

impl ComponentConfig for HostMetricsConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if !cfg!(target_os = "linux") {
            return Err(ConfigError::invalid(
                "the hostmetrics receiver of otlp-rs reads /proc and /sys: Linux only",
            ));
        }
        otlp_pipeline::config::fields::positive("collection_interval", self.collection_interval)?;
        if self.scrapers.nfs.is_some() {
            return Err(ConfigError::bad_value(
                "scrapers::nfs",
                "the nfs scraper is not supported by this receiver",
            ));
        }
        if self.scrapers.count() == 0 {
            return Err(ConfigError::bad_value(
                "scrapers",
                "must specify at least one scraper when using host_metrics receiver",
            ));
        }
        if !self.root_path.is_empty()
            && self.root_path != "/"
            && let Err(e) = std::fs::metadata(&self.root_path)
        {
            return Err(ConfigError::bad_value(
                "root_path",
                format!("invalid root_path: {e}"),
            ));
        }
        let s = &self.scrapers;
        macro_rules! check {
            ($name:ident, $module:ident) => {
                if let Some(c) = &s.$name {
                    validate_metrics(
                        concat!("scrapers::", stringify!($name)),
                        &c.metrics,
                        super::$module::METRICS,
                    )?;
                }
            };
        }
        check!(cpu, cpu);
        check!(disk, disk);
        check!(filesystem, filesystem);
        check!(load, load);
        check!(memory, memory);
        check!(network, network);
        check!(paging, paging);
        check!(processes, processes);
        check!(process, process);
        check!(system, system);
        if let Some(d) = &s.disk {
            d.include.compile("scrapers::disk::include")?;
            d.exclude.compile("scrapers::disk::exclude")?;
        }
        if let Some(n) = &s.network {
            n.include.compile("scrapers::network::include")?;
            n.exclude.compile("scrapers::network::exclude")?;
        }
        if let Some(f) = &s.filesystem {
            f.filters()?;
        }
        if let Some(p) = &s.process {
            p.include.compile("scrapers::process::include")?;
            p.exclude.compile("scrapers::process::exclude")?;
            for (name, setting) in &p.resource_attributes {
                let at = format!("scrapers::process::resource_attributes::{name}");
                let Some((_, _, supported)) = super::process::RESOURCE_ATTRIBUTES
                    .iter()
                    .find(|(k, _, _)| k == name)
                else {
                    let known: Vec<&str> = super::process::RESOURCE_ATTRIBUTES
                        .iter()
                        .map(|(k, _, _)| *k)
                        .collect();
                    return Err(ConfigError::bad_value(
                        at,
                        format!(
                            "unknown resource attribute `{name}`, expected one of {}",
                            known.join(", ")
                        ),
                    ));
                };
                if !supported && setting.enabled == Some(true) {
                    return Err(ConfigError::bad_value(
                        format!("{at}::enabled"),
                        format!("`{name}` is not supported by this receiver"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The filesystem scraper's compiled filters.
#[derive(Debug, Clone, Default)]
pub(crate) struct FsFilters {
    pub devices: IncludeExclude,
    pub fs_types: IncludeExclude,
    pub mount_points: IncludeExclude,
}

impl FilesystemConfig {
    pub(crate) fn filters(&self) -> Result<FsFilters, ConfigError> {
        let p = "scrapers::filesystem::";
        Ok(FsFilters {
            devices: IncludeExclude {
                include: self
                    .include_devices
                    .compile(&format!("{p}include_devices"))?,
                exclude: self
                    .exclude_devices
                    .compile(&format!("{p}exclude_devices"))?,
            },
            fs_types: IncludeExclude {
                include: self
                    .include_fs_types
                    .compile(&format!("{p}include_fs_types"))?,
                exclude: self
                    .exclude_fs_types
                    .compile(&format!("{p}exclude_fs_types"))?,
            },
            mount_points: IncludeExclude {
                include: self
                    .include_mount_points
                    .compile(&format!("{p}include_mount_points"))?,
                exclude: self
                    .exclude_mount_points
                    .compile(&format!("{p}exclude_mount_points"))?,
            },
        })
    }
}
