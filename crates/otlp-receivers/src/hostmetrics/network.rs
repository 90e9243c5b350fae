//! The `network` scraper: per-interface counters from `/proc/net/dev` (filtered by
//! `include`/`exclude` interface names), TCP connections by state from `/proc/net/tcp` and
//! `/proc/net/tcp6` (every state of the Go scraper's list, zero included; a state is named as
//! gopsutil names it), and the conntrack table's size from
//! `/proc/sys/net/netfilter/nf_conntrack_{count,max}`.

use std::collections::BTreeMap;

use super::Scrape;
use super::config::IncludeExclude;
use super::host::{Host, ScrapeError};
use super::metric::{Kind, MONO, MetricDef, Recorder, Resolved, UPDOWN, def};

const DEVICE_DIRECTION: &[&str] = &["device", "direction"];

/// The catalogue (otelcol-contrib v0.160.0 `networkscraper/metadata.yaml`).
pub(crate) static METRICS: &[MetricDef] = &[
    def(
        "system.network.connections",
        "The number of connections.",
        "{connections}",
        UPDOWN,
        Kind::Int,
        true,
        &["protocol", "state"],
    ),
    def(
        "system.network.conntrack.count",
        "The count of entries in conntrack table.",
        "{entries}",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    ),
    def(
        "system.network.conntrack.max",
        "The limit for entries in the conntrack table.",
        "{entries}",
        UPDOWN,
        Kind::Int,
        false,
        &[],
    ),
    def(
        "system.network.dropped",
        "The number of packets dropped.",
        "{packets}",
        MONO,
        Kind::Int,
        true,
        DEVICE_DIRECTION,
    ),
    def(
        "system.network.errors",
        "The number of errors encountered.",
        "{errors}",
        MONO,
        Kind::Int,
        true,
        DEVICE_DIRECTION,
    ),
    def(
        "system.network.io",
        "The number of bytes transmitted and received.",
        "By",
        MONO,
        Kind::Int,
        true,
        DEVICE_DIRECTION,
    ),
    def(
        "system.network.packets",
        "The number of packets transferred.",
        "{packets}",
        MONO,
        Kind::Int,
        true,
        DEVICE_DIRECTION,
    ),
];

/// The Go scraper's state list (every one reported, zero or not).
const ALL_TCP_STATES: [&str; 12] = [
    "CLOSE_WAIT",
    "CLOSE",
    "CLOSING",
    "DELETE",
    "ESTABLISHED",
    "FIN_WAIT_1",
    "FIN_WAIT_2",
    "LAST_ACK",
    "LISTEN",
    "SYN_SENT",
    "SYN_RECV",
    "TIME_WAIT",
];

/// gopsutil's name of a `/proc/net/tcp` state code.
fn tcp_state(code: &str) -> &'static str {
    match code {
        "01" => "ESTABLISHED",
        "02" => "SYN_SENT",
        "03" => "SYN_RECV",
        "04" => "FIN_WAIT1",
        "05" => "FIN_WAIT2",
        "06" => "TIME_WAIT",
        "07" => "CLOSE",
        "08" => "CLOSE_WAIT",
        "09" => "LAST_ACK",
        "0A" => "LISTEN",
        "0B" => "CLOSING",
        _ => "",
    }
}

/// One interface of `/proc/net/dev`.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct NetDev {
    pub name: String,
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

pub(crate) fn parse_net_dev(text: &str) -> Vec<NetDev> {
    text.lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(':')?;
            let f: Vec<u64> = rest
                .split_whitespace()
                .map(|v| v.parse().ok())
                .collect::<Option<_>>()?;
            if f.len() < 16 {
                return None;
            }
            Some(NetDev {
                name: name.trim().to_owned(),
                rx_bytes: f[0],
                rx_packets: f[1],
                rx_errors: f[2],
                rx_dropped: f[3],
                tx_bytes: f[8],
                tx_packets: f[9],
                tx_errors: f[10],
                tx_dropped: f[11],
            })
        })
        .collect()
}

/// Counts the connections of `/proc/net/tcp`-format texts by state.
pub(crate) fn count_tcp<'a>(
    texts: impl IntoIterator<Item = &'a str>,
) -> BTreeMap<&'static str, i64> {
    let mut counts: BTreeMap<&'static str, i64> = ALL_TCP_STATES.iter().map(|s| (*s, 0)).collect();
    for text in texts {
        for line in text.lines().skip(1) {
            if let Some(code) = line.split_whitespace().nth(3) {
                *counts.entry(tcp_state(code)).or_default() += 1;
            }
        }
    }
    counts
}

/// The `network` scraper.
#[derive(Debug)]
pub(crate) struct NetworkScraper {
    metrics: Vec<Resolved>,
    filter: IncludeExclude,
}

impl NetworkScraper {
    pub(crate) fn new(metrics: Vec<Resolved>, filter: IncludeExclude) -> NetworkScraper {
        NetworkScraper { metrics, filter }
    }

    pub(crate) fn scrape(&mut self, host: &Host, scrape: &mut Scrape) {
        let mut rec = Recorder::new(&self.metrics, scrape.start, scrape.now);
        match host.read_proc("net/dev") {
            Ok(text) => {
                for d in parse_net_dev(&text) {
                    if !self.filter.allows(&d.name) {
                        continue;
                    }
                    let tx = [("device", d.name.as_str()), ("direction", "transmit")];
                    let rx = [("device", d.name.as_str()), ("direction", "receive")];
                    rec.record("system.network.packets", d.tx_packets as f64, &tx);
                    rec.record("system.network.packets", d.rx_packets as f64, &rx);
                    rec.record("system.network.dropped", d.tx_dropped as f64, &tx);
                    rec.record("system.network.dropped", d.rx_dropped as f64, &rx);
                    rec.record("system.network.errors", d.tx_errors as f64, &tx);
                    rec.record("system.network.errors", d.rx_errors as f64, &rx);
                    rec.record("system.network.io", d.tx_bytes as f64, &tx);
                    rec.record("system.network.io", d.rx_bytes as f64, &rx);
                }
            }
            Err(e) => scrape.error("network", e),
        }
        if rec.enabled("system.network.connections") {
            let mut texts = Vec::new();
            for file in ["net/tcp", "net/tcp6"] {
                match host.read_proc(file) {
                    Ok(t) => texts.push(t),
                    // A host without IPv6 has no tcp6.
                    Err(_) if file == "net/tcp6" => {}
                    Err(e) => scrape.error("network", e),
                }
            }
            if !texts.is_empty() {
                for (state, n) in count_tcp(texts.iter().map(String::as_str)) {
                    rec.record(
                        "system.network.connections",
                        n as f64,
                        &[("protocol", "tcp"), ("state", state)],
                    );
                }
            }
        }
        if rec.enabled("system.network.conntrack.count")
            || rec.enabled("system.network.conntrack.max")
        {
            let read = |name: &str| -> Result<u64, ScrapeError> {
                let path = host.proc(&format!("sys/net/netfilter/{name}"));
                let text = host.read(&path)?;
                text.trim().parse().map_err(|_| ScrapeError::Format {
                    path: path.display().to_string(),
                    what: "not a number".into(),
                })
            };
            match (read("nf_conntrack_count"), read("nf_conntrack_max")) {
                (Ok(count), Ok(max)) => {
                    rec.record("system.network.conntrack.count", count as f64, &[]);
                    rec.record("system.network.conntrack.max", max as f64, &[]);
                }
                (Err(e), _) | (_, Err(e)) => scrape.error("network", e),
            }
        }
        scrape.emit("network", Vec::new(), rec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_net_dev_and_tcp() {
        let dev = "Inter-|   Receive |  Transmit\n face |bytes packets\n  eth0: 100 2 3 4 0 0 0 0 200 5 6 7 0 0 0 0\n";
        let d = parse_net_dev(dev);
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].rx_bytes, d[0].tx_bytes, d[0].tx_dropped),
            (100, 200, 7)
        );
        let tcp = "  sl  local_address rem_address   st\n   0: 0100007F:0277 00000000:0000 0A 0\n   1: 0100007F:0277 0100007F:9999 01 0\n";
        let c = count_tcp([tcp, tcp]);
        assert_eq!(c["LISTEN"], 2);
        assert_eq!(c["ESTABLISHED"], 2);
        assert_eq!(c["DELETE"], 0);
        assert_eq!(c.len(), 12);
    }
}
