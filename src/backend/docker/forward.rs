//! Port forwards to a container (#15, src/backend/forward.rs): which address carries a
//! container port from here.
//!
//! - A published port: its host side — 127.0.0.1:HOSTPORT when the engine runs on this machine
//!   (a unix socket, or tcp to a loopback address), ENGINEHOST:HOSTPORT for a tcp engine
//!   elsewhere when the port is published on every address.
//! - An internal port: the container's address on its network, only for an engine on this
//!   machine and only when the route to it stays here (a Linux bridge, docker's own networks):
//!   never a guess sent out through the default route.
//! - Anything else: an error that says what would work.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::{anyhow, bail};
use bollard::query_parameters::InspectContainerOptions;

use super::Inner;
use super::connect::Endpoint;
use super::error::human_error;
use crate::backend::forward::{Connector, TcpConnector};
use crate::model::ResourceKey;

/// Where the engine runs, as far as reaching published ports goes.
enum EngineHost {
    ThisMachine,
    /// A tcp engine elsewhere: its host name or address.
    Remote(String),
    /// Over ssh: its ports are that host's, not reachable from here without a tunnel.
    Ssh(String),
}

fn engine_host(endpoint: &Endpoint) -> EngineHost {
    match endpoint {
        Endpoint::Unix(_) => EngineHost::ThisMachine,
        Endpoint::Http { addr } | Endpoint::Tls { addr, .. } => {
            let host = addr
                .rsplit_once(':')
                .map(|(h, _)| h)
                .unwrap_or(addr)
                .trim_matches(['[', ']']);
            let loopback =
                host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if loopback {
                EngineHost::ThisMachine
            } else {
                EngineHost::Remote(host.to_string())
            }
        }
        Endpoint::Ssh { target } => EngineHost::Ssh(target.clone()),
    }
}

pub async fn connector(
    inner: &Inner,
    target: &ResourceKey,
    port: u16,
) -> anyhow::Result<Arc<dyn Connector>> {
    let (conn, endpoint) = inner.connection().await.map_err(|e| anyhow!(e))?;
    let info = conn
        .docker
        .inspect_container(&target.id, None::<InspectContainerOptions>)
        .await
        .map_err(|e| anyhow!(human_error(&endpoint, &e)))?;
    let name = crate::term::sanitize::sanitize_plain(
        info.name
            .as_deref()
            .unwrap_or(&target.id)
            .trim_start_matches('/'),
    );
    if !info.state.as_ref().and_then(|s| s.running).unwrap_or(false) {
        bail!("{name} is not running");
    }
    let net = info.network_settings.unwrap_or_default();
    let published: Vec<(String, u16)> = net
        .ports
        .as_ref()
        .and_then(|m| m.get(&format!("{port}/tcp")))
        .cloned()
        .flatten()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|b| {
            let host_port = b.host_port?.parse::<u16>().ok()?;
            Some((b.host_ip.unwrap_or_default(), host_port))
        })
        .collect();
    let wildcard = |ip: &str| ip.is_empty() || ip == "0.0.0.0" || ip == "::";
    let host = engine_host(&endpoint);
    if let Some((ip, host_port)) = published.first() {
        match &host {
            EngineHost::ThisMachine => {
                let ip: IpAddr = if wildcard(ip) {
                    Ipv4Addr::LOCALHOST.into()
                } else {
                    ip.parse()
                        .map_err(|_| anyhow!("{name}: bad host address {ip}"))?
                };
                let addr = SocketAddr::new(ip, *host_port);
                return Ok(Arc::new(TcpConnector {
                    addr,
                    target: format!("{name}:{port} ({addr})"),
                }));
            }
            EngineHost::Remote(h) => {
                if let Some((_, host_port)) = published.iter().find(|(ip, _)| wildcard(ip)) {
                    let addr = tokio::net::lookup_host((h.as_str(), *host_port))
                        .await?
                        .next()
                        .ok_or_else(|| anyhow!("{h}: no address"))?;
                    return Ok(Arc::new(TcpConnector {
                        addr,
                        target: format!("{name}:{port} ({h}:{host_port})"),
                    }));
                }
                bail!("{name}:{port} is published on {ip} of {h} only: not reachable from here")
            }
            EngineHost::Ssh(t) => {
                bail!("{name}:{port}: the engine is reached over ssh ({t}); forward from there")
            }
        }
    }
    if !matches!(host, EngineHost::ThisMachine) {
        bail!(
            "port {port} of {name} is not published, and the engine ({endpoint}) is not on \
             this machine: publish it (-p), or forward from the device or pod that runs it"
        );
    }
    // An internal port: the container's own address, when it is on a bridge of this machine.
    let mut networks: Vec<_> = net.networks.unwrap_or_default().into_iter().collect();
    networks.sort_by(|a, b| a.0.cmp(&b.0));
    let ips: Vec<Ipv4Addr> = networks
        .iter()
        .filter_map(|(_, e)| e.ip_address.as_deref()?.parse().ok())
        .collect();
    let Some(ip) = ips.iter().copied().find(|ip| stays_here(*ip)) else {
        bail!(
            "port {port} of {name} is not published and its address ({}) is not on a bridge \
             of this machine",
            if ips.is_empty() {
                "none".to_string()
            } else {
                ips.iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    };
    let addr = SocketAddr::new(ip.into(), port);
    Ok(Arc::new(TcpConnector {
        addr,
        target: format!("{name}:{port} ({addr})"),
    }))
}

/// Does the route to `ip` stay on this machine? Its best route (longest prefix, from
/// `/proc/net/route`) must be on-link (no gateway) on a Linux bridge (docker0, br-…): a
/// container network. Anything else (the LAN, the default route) would send the bytes out.
fn stays_here(ip: Ipv4Addr) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/route") else {
        return false;
    };
    match best_route(&table, ip) {
        Some((iface, gateway)) => {
            gateway == 0 && std::path::Path::new(&format!("/sys/class/net/{iface}/bridge")).exists()
        }
        None => false,
    }
}

/// (interface, gateway) of the longest-prefix route to `ip` in `/proc/net/route`'s text
/// (addresses are hex in host byte order, little-endian on the machines this runs on).
fn best_route(table: &str, ip: Ipv4Addr) -> Option<(String, u32)> {
    let want = u32::from_le_bytes(ip.octets());
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let hex = |i: usize| f.get(i).and_then(|s| u32::from_str_radix(s, 16).ok());
            let (dest, gw, mask) = (hex(1)?, hex(2)?, hex(7)?);
            (want & mask == dest).then(|| (mask.count_ones(), f[0].to_string(), gw))
        })
        .max_by_key(|(bits, _, _)| *bits)
        .map(|(_, iface, gw)| (iface, gw))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";

    #[test]
    fn the_longest_prefix_wins() {
        assert_eq!(
            best_route(TABLE, Ipv4Addr::new(172, 17, 0, 2)),
            Some(("docker0".into(), 0))
        );
        assert_eq!(
            best_route(TABLE, Ipv4Addr::new(192, 0, 2, 9)),
            Some(("eth0".into(), 0))
        );
        // Through the default route: a gateway.
        assert_eq!(
            best_route(TABLE, Ipv4Addr::new(8, 8, 8, 8)),
            Some(("eth0".into(), 0x0102_00C0))
        );
    }

    #[test]
    fn a_loopback_tcp_engine_is_this_machine() {
        assert!(matches!(
            engine_host(&Endpoint::Http {
                addr: "127.0.0.1:2375".into()
            }),
            EngineHost::ThisMachine
        ));
        assert!(matches!(
            engine_host(&Endpoint::Http {
                addr: "docker.example:2375".into()
            }),
            EngineHost::Remote(h) if h == "docker.example"
        ));
    }
}
