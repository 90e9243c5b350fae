//! The `system` detector: `host.name` from the configured hostname sources (tried in order),
//! `os.type`, `host.arch`, and the attributes turned on by `resource_attributes` (`host.id`,
//! `os.description`, `host.ip`, `host.mac`, `host.cpu.*`, …), with otelcol-contrib's
//! defaults: only `host.name` and `os.type` are on.
//!
//! As in contrib, the detector fails when no hostname source gives a name; an attribute that
//! cannot be read (no machine id, no `/proc/cpuinfo`) is left out with a warning.

use std::collections::BTreeSet;

use super::system_facts as facts;
use super::{Attributes, int, string, strings};
use crate::resourcedetection::config::HostnameSource;
use crate::resourcedetection::environment::Environment;

/// The attributes of the `system` detector and whether each is on by default (contrib's
/// `documentation.md` for the detector). `host.interface` is not implemented.
pub(crate) const ATTRIBUTES: [(&str, bool); 16] = [
    ("host.arch", false),
    ("host.cpu.cache.l2.size", false),
    ("host.cpu.family", false),
    ("host.cpu.model.id", false),
    ("host.cpu.model.name", false),
    ("host.cpu.stepping", false),
    ("host.cpu.vendor.id", false),
    ("host.id", false),
    ("host.ip", false),
    ("host.mac", false),
    ("host.name", true),
    ("os.build.id", false),
    ("os.description", false),
    ("os.name", false),
    ("os.type", true),
    ("os.version", false),
];

/// The `system` detector.
#[derive(Debug, Clone)]
pub(crate) struct SystemDetector {
    sources: Vec<HostnameSource>,
    enabled: BTreeSet<&'static str>,
}

impl SystemDetector {
    /// A detector trying `sources` in order and emitting the `enabled` attributes.
    pub(crate) fn new(
        sources: Vec<HostnameSource>,
        enabled: BTreeSet<&'static str>,
    ) -> SystemDetector {
        SystemDetector { sources, enabled }
    }

    fn on(&self, name: &str) -> bool {
        self.enabled.contains(name)
    }

    /// One detection (blocking: file reads and the system resolver).
    pub(crate) fn detect(&self, environment: &Environment) -> Result<Attributes, String> {
        let hostname = self
            .sources
            .iter()
            .find_map(|source| match hostname(*source, environment) {
                Ok(name) => Some(name),
                Err(error) => {
                    tracing::debug!(source = source.name(), %error, "hostname source failed");
                    None
                }
            })
            .ok_or("all hostname sources failed to get hostname")?;
        let mut out = Attributes::new();
        if self.on("host.name") {
            out.push(string("host.name", hostname));
        }
        if self.on("os.type") {
            out.push(string("os.type", environment.os_type()));
        }
        if self.on("host.id") {
            match facts::machine_id(environment) {
                Some(id) => out.push(string("host.id", id)),
                None => tracing::warn!("failed to get host ID: no machine id file"),
            }
        }
        if self.on("host.arch") {
            out.push(string("host.arch", environment.arch()));
        }
        self.os_release_attributes(environment, &mut out);
        if self.on("host.ip") {
            let ips = facts::host_ips(environment);
            out.push(strings(
                "host.ip",
                ips.iter().map(ToString::to_string).collect(),
            ));
        }
        if self.on("host.mac") {
            out.push(strings("host.mac", facts::host_macs(environment)));
        }
        self.cpu_attributes(environment, &mut out);
        Ok(out)
    }

    fn os_release_attributes(&self, environment: &Environment, out: &mut Attributes) {
        let release = facts::os_release(environment);
        if self.on("os.description") {
            out.push(string(
                "os.description",
                facts::os_description(environment, &release),
            ));
        }
        let fields = [
            ("os.name", "NAME"),
            ("os.version", "VERSION_ID"),
            ("os.build.id", "BUILD_ID"),
        ];
        for (attribute, field) in fields {
            if !self.on(attribute) {
                continue;
            }
            match release.get(field) {
                Some(value) => out.push(string(attribute, value.clone())),
                None => tracing::warn!(attribute, "no {field} in os-release; attribute left out"),
            }
        }
    }

    fn cpu_attributes(&self, environment: &Environment, out: &mut Attributes) {
        let wanted: Vec<&str> = ATTRIBUTES
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| name.starts_with("host.cpu.") && self.on(name))
            .collect();
        if wanted.is_empty() {
            return;
        }
        let Some(cpu) = facts::cpu_info(environment) else {
            tracing::warn!("failed to read /proc/cpuinfo; host.cpu.* left out");
            return;
        };
        for name in wanted {
            let field = match name {
                "host.cpu.vendor.id" => "vendor_id",
                "host.cpu.family" => "cpu family",
                "host.cpu.model.id" => "model",
                "host.cpu.model.name" => "model name",
                "host.cpu.stepping" => "stepping",
                _ => "cache size",
            };
            let Some(value) = cpu.get(field) else {
                continue;
            };
            if name == "host.cpu.cache.l2.size" {
                if let Some(size) = facts::cache_size_kib(value) {
                    out.push(int(name, size));
                }
            } else {
                out.push(string(name, value.clone()));
            }
        }
    }
}

/// The host name from one source.
pub(crate) fn hostname(
    source: HostnameSource,
    environment: &Environment,
) -> Result<String, String> {
    let os = facts::os_hostname(environment).ok_or("cannot read the OS host name")?;
    let found = match source {
        HostnameSource::Os => Some(os.clone()),
        HostnameSource::Cname => facts::canonical_name(environment, &os),
        HostnameSource::Lookup => facts::reverse_lookup(environment, &os),
        HostnameSource::Dns => facts::canonical_name(environment, &os)
            .or_else(|| facts::reverse_lookup(environment, &os)),
    };
    found
        .map(|name| name.trim_end_matches('.').to_owned())
        .filter(|name| !name.is_empty())
        .ok_or_else(|| format!("{}: no name found for {os:?}", source.name()))
}
