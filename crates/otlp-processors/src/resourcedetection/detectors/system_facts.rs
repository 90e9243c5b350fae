//! Reading the host facts the `system` detector reports, from the files Linux exposes (all
//! through [`Environment`], so under a fixture root in tests): the host name, the hosts
//! file, the machine id, `os-release`, the kernel's `uname` fields, `/proc/cpuinfo`, the
//! interfaces' addresses and MAC addresses.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::resourcedetection::environment::Environment;

/// The most addresses or MAC addresses reported.
const MAX_ADDRESSES: usize = 256;
/// `IFF_UP` and `IFF_LOOPBACK` in `/sys/class/net/*/flags`.
const IFF_UP: u32 = 0x1;
const IFF_LOOPBACK: u32 = 0x8;

/// The kernel's host name (`/proc/sys/kernel/hostname`, else `/etc/hostname`).
pub(crate) fn os_hostname(environment: &Environment) -> Option<String> {
    environment
        .read_trimmed("/proc/sys/kernel/hostname")
        .or_else(|| environment.read_trimmed("/etc/hostname"))
}

/// The hosts file's lines: an address and its names (canonical name first).
fn hosts(environment: &Environment) -> Vec<(String, Vec<String>)> {
    let Some(text) = environment.read("/etc/hosts") else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or_default();
            let mut fields = line.split_whitespace();
            let address = fields.next()?.to_owned();
            let names: Vec<String> = fields.map(str::to_owned).collect();
            (!names.is_empty()).then_some((address, names))
        })
        .collect()
}

/// The canonical name (first name of its hosts-file line) of `host`.
pub(crate) fn canonical_name(environment: &Environment, host: &str) -> Option<String> {
    hosts(environment)
        .into_iter()
        .find(|(_, names)| names.iter().any(|n| n.eq_ignore_ascii_case(host)))
        .and_then(|(_, names)| names.into_iter().next())
}

/// A name for the addresses of `host`: the system resolver gives the addresses, the hosts
/// file a name for the first address it lists.
pub(crate) fn reverse_lookup(environment: &Environment, host: &str) -> Option<String> {
    let entries = hosts(environment);
    environment.resolve(host).into_iter().find_map(|ip| {
        entries
            .iter()
            .find(|(address, _)| address.parse::<IpAddr>().ok() == Some(ip))
            .and_then(|(_, names)| names.first().cloned())
    })
}

/// The machine id (`/etc/machine-id`, else `/var/lib/dbus/machine-id`).
pub(crate) fn machine_id(environment: &Environment) -> Option<String> {
    environment
        .read_trimmed("/etc/machine-id")
        .or_else(|| environment.read_trimmed("/var/lib/dbus/machine-id"))
}

/// The fields of `/etc/os-release` (else `/usr/lib/os-release`), values unquoted.
pub(crate) fn os_release(environment: &Environment) -> BTreeMap<String, String> {
    let text = environment
        .read("/etc/os-release")
        .or_else(|| environment.read("/usr/lib/os-release"))
        .unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.starts_with('#') {
                return None;
            }
            let (key, value) = line.split_once('=')?;
            Some((key.trim().to_owned(), unquote(value.trim())))
        })
        .collect()
}

fn unquote(value: &str) -> String {
    let inner = ['"', '\'']
        .iter()
        .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
        .unwrap_or(value);
    inner
        .replace("\\\"", "\"")
        .replace("\\$", "$")
        .replace("\\`", "`")
}

/// `uname -snrvm` from `/proc/sys/kernel` and the machine name, when the kernel files exist.
fn uname(environment: &Environment) -> Option<String> {
    let sysname = environment.read_trimmed("/proc/sys/kernel/ostype")?;
    let nodename = os_hostname(environment).unwrap_or_default();
    let release = environment
        .read_trimmed("/proc/sys/kernel/osrelease")
        .unwrap_or_default();
    let version = environment
        .read_trimmed("/proc/sys/kernel/version")
        .unwrap_or_default();
    Some(format!(
        "{sysname} {nodename} {release} {version} {}",
        environment.machine()
    ))
}

/// `os.description` as the OpenTelemetry Go SDK builds it: the release's pretty name, then
/// the `uname` fields in parentheses; whichever exists, else the OS type.
pub(crate) fn os_description(
    environment: &Environment,
    release: &BTreeMap<String, String>,
) -> String {
    let pretty = release.get("PRETTY_NAME").cloned().or_else(|| {
        let name = release.get("NAME")?;
        Some(match release.get("VERSION") {
            Some(version) => format!("{name} {version}"),
            None => name.clone(),
        })
    });
    match (pretty, uname(environment)) {
        (Some(pretty), Some(uname)) => format!("{pretty} ({uname})"),
        (Some(pretty), None) => pretty,
        (None, Some(uname)) => uname,
        (None, None) => environment.os_type().to_owned(),
    }
}

/// The fields of the first processor of `/proc/cpuinfo`.
pub(crate) fn cpu_info(environment: &Environment) -> Option<BTreeMap<String, String>> {
    let text = environment.read("/proc/cpuinfo")?;
    let fields: BTreeMap<String, String> = text
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| {
            let (key, value) = line.split_once(':')?;
            Some((key.trim().to_owned(), value.trim().to_owned()))
        })
        .collect();
    (!fields.is_empty()).then_some(fields)
}

/// `512 KB` as 512.
pub(crate) fn cache_size_kib(value: &str) -> Option<i64> {
    value.split_whitespace().next()?.parse().ok()
}

/// The interfaces (by name) and their flags.
fn interfaces(environment: &Environment) -> Vec<(String, u32)> {
    environment
        .list("/sys/class/net")
        .into_iter()
        .map(|name| {
            let flags = environment
                .read_trimmed(&format!("/sys/class/net/{name}/flags"))
                .and_then(|f| u32::from_str_radix(f.trim_start_matches("0x"), 16).ok())
                .unwrap_or(0);
            (name, flags)
        })
        .collect()
}

fn up_and_not_loopback(flags: u32) -> bool {
    flags & IFF_UP != 0 && flags & IFF_LOOPBACK == 0
}

/// The host's addresses, loopback excluded: IPv4 from the kernel's local routes
/// (`/proc/net/fib_trie`), IPv6 from `/proc/net/if_inet6` on interfaces that are up.
pub(crate) fn host_ips(environment: &Environment) -> Vec<IpAddr> {
    let mut ips: Vec<IpAddr> = Vec::new();
    let mut add = |ip: IpAddr| {
        if !ip.is_loopback() && !ips.contains(&ip) && ips.len() < MAX_ADDRESSES {
            ips.push(ip);
        }
    };
    if let Some(trie) = environment.read("/proc/net/fib_trie") {
        let mut last: Option<Ipv4Addr> = None;
        for line in trie.lines() {
            let line = line.trim();
            if let Some(address) = line.strip_prefix("|-- ") {
                last = address.trim().parse().ok();
            } else if line.starts_with("/32 host LOCAL")
                && let Some(ip) = last
            {
                add(IpAddr::V4(ip));
            }
        }
    }
    let up: Vec<String> = interfaces(environment)
        .into_iter()
        .filter(|(_, flags)| up_and_not_loopback(*flags))
        .map(|(name, _)| name)
        .collect();
    if let Some(table) = environment.read("/proc/net/if_inet6") {
        for line in table.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(hex), Some(name)) = (fields.first(), fields.last()) else {
                continue;
            };
            if !up.iter().any(|u| u == name) {
                continue;
            }
            if let Some(ip) = u128::from_str_radix(hex, 16)
                .ok()
                .filter(|_| hex.len() == 32)
            {
                add(IpAddr::V6(Ipv6Addr::from(ip)));
            }
        }
    }
    ips
}

/// The MAC addresses of the interfaces that are up (loopback excluded), in the semantic
/// conventions' form: upper-case hexadecimal pairs joined by hyphens.
pub(crate) fn host_macs(environment: &Environment) -> Vec<String> {
    interfaces(environment)
        .into_iter()
        .filter(|(_, flags)| up_and_not_loopback(*flags))
        .filter_map(|(name, _)| environment.read_trimmed(&format!("/sys/class/net/{name}/address")))
        .filter(|mac| mac.chars().any(|c| c != '0' && c != ':'))
        .map(|mac| mac.replace(':', "-").to_ascii_uppercase())
        .take(MAX_ADDRESSES)
        .collect()
}
