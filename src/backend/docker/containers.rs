//! Containers → rows: `docker ps -a` as the neutral model.

use bollard::models::{
    ContainerSummary, ContainerSummaryHealthStatusEnum, ContainerSummaryStateEnum, PortSummary,
};

use super::util::{COMPOSE_PROJECT, clean_labels, short_id, ts_from_secs};
use crate::model::{Health, Resource, ResourceKey, ResourceKind, RowFacts, SourceId};
use crate::term::sanitize::sanitize_plain;

/// `docker ps` name: the first name without Docker's leading `/`.
pub fn container_name(c: &ContainerSummary) -> String {
    let names = c.names.as_deref().unwrap_or_default();
    // Legacy links add names like "/web/db"; the container's own name has a single slash.
    let name = names
        .iter()
        .find(|n| n.trim_start_matches('/').find('/').is_none())
        .or_else(|| names.first())
        .map(|n| n.trim_start_matches('/'))
        .unwrap_or_default();
    if name.is_empty() {
        c.id.as_deref().map(short_id).unwrap_or_default()
    } else {
        sanitize_plain(name)
    }
}

/// The exit code in a status like "Exited (137) 5 minutes ago".
pub fn exit_code_from_status(status: &str) -> Option<i64> {
    let rest = status.trim_start().strip_prefix("Exited (")?;
    let end = rest.find(')')?;
    rest[..end].trim().parse().ok()
}

/// The health check state Docker appends to the status of a running container.
fn health_from_status(status: &str) -> Option<ContainerSummaryHealthStatusEnum> {
    if status.contains("(unhealthy)") {
        Some(ContainerSummaryHealthStatusEnum::UNHEALTHY)
    } else if status.contains("(health: starting)") {
        Some(ContainerSummaryHealthStatusEnum::STARTING)
    } else if status.contains("(healthy)") {
        Some(ContainerSummaryHealthStatusEnum::HEALTHY)
    } else {
        None
    }
}

/// Colour class of a container: what a person scanning the list needs to notice.
pub fn container_health(c: &ContainerSummary) -> Health {
    use ContainerSummaryHealthStatusEnum as H;
    use ContainerSummaryStateEnum as S;
    let status = c.status.as_deref().unwrap_or_default();
    match c.state {
        Some(S::RUNNING) => {
            // API >= 1.52 reports health as a field; older engines (20.10) only in the status text.
            let health = c
                .health
                .as_ref()
                .and_then(|h| h.status)
                .or_else(|| health_from_status(status));
            match health {
                Some(H::UNHEALTHY) => Health::Failed,
                Some(H::STARTING) => Health::Pending,
                _ => Health::Ok,
            }
        }
        Some(S::RESTARTING) | Some(S::REMOVING) | Some(S::STOPPING) => Health::Pending,
        Some(S::DEAD) => Health::Failed,
        Some(S::EXITED) => match exit_code_from_status(status) {
            Some(0) => Health::Stopped,
            Some(_) => Health::Failed,
            None => Health::Stopped,
        },
        Some(S::CREATED) | Some(S::PAUSED) => Health::Stopped,
        Some(S::EMPTY) | None => Health::Unknown,
    }
}

pub fn state_text(c: &ContainerSummary) -> &'static str {
    match c.state {
        Some(ref s) => state_str(*s),
        None => "",
    }
}

fn state_str(s: ContainerSummaryStateEnum) -> &'static str {
    use ContainerSummaryStateEnum as S;
    match s {
        S::EMPTY => "",
        S::CREATED => "created",
        S::RUNNING => "running",
        S::PAUSED => "paused",
        S::RESTARTING => "restarting",
        S::EXITED => "exited",
        S::REMOVING => "removing",
        S::DEAD => "dead",
        S::STOPPING => "stopping",
    }
}

/// One port mapping, normalised so IPv4 and IPv6 wildcard bindings compare equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Port {
    unpublished: bool,
    /// "" for a wildcard bind (0.0.0.0 / ::), else the host address as printed.
    ip: String,
    proto: String,
    private: u16,
    public: u16,
}

/// A run of consecutive mappings, printed as one range like the docker CLI does.
struct Run {
    first: Port,
    len: u16,
}

fn normalise(p: &PortSummary) -> Port {
    let ip = match p.ip.as_deref().map(str::trim) {
        None | Some("") | Some("0.0.0.0") | Some("::") => String::new(),
        Some(ip) if ip.contains(':') => format!("[{}]", sanitize_plain(ip)),
        Some(ip) => sanitize_plain(ip),
    };
    let proto = match p.typ.as_ref().map(|t| t.as_ref()) {
        Some("") | None => "tcp".to_owned(),
        Some(t) => t.to_owned(),
    };
    match p.public_port {
        Some(public) if public != 0 => Port {
            unpublished: false,
            ip,
            proto,
            private: p.private_port,
            public,
        },
        _ => Port {
            unpublished: true,
            ip: String::new(),
            proto,
            private: p.private_port,
            public: 0,
        },
    }
}

/// "127.0.0.1:8080->80/tcp, 9000-9002->9000-9002/tcp, 5432/tcp": published first, wildcard
/// addresses left out, the IPv6 twin of an IPv4 binding dropped, consecutive ports as ranges.
pub fn format_ports(ports: &[PortSummary]) -> String {
    let mut list: Vec<Port> = ports.iter().map(normalise).collect();
    list.sort();
    list.dedup();

    let mut runs: Vec<Run> = Vec::new();
    for p in list {
        if let Some(run) = runs.last_mut() {
            let last_private = run.first.private.checked_add(run.len - 1);
            let last_public = run.first.public.checked_add(run.len - 1);
            let continues = run.first.unpublished == p.unpublished
                && run.first.ip == p.ip
                && run.first.proto == p.proto
                && last_private.and_then(|v| v.checked_add(1)) == Some(p.private)
                && (p.unpublished || last_public.and_then(|v| v.checked_add(1)) == Some(p.public));
            if continues {
                run.len += 1;
                continue;
            }
        }
        runs.push(Run { first: p, len: 1 });
    }

    let range = |start: u16, len: u16| {
        if len == 1 {
            start.to_string()
        } else {
            format!("{start}-{}", start.saturating_add(len - 1))
        }
    };
    runs.iter()
        .map(|r| {
            let p = &r.first;
            if p.unpublished {
                format!("{}/{}", range(p.private, r.len), p.proto)
            } else {
                let ip = if p.ip.is_empty() {
                    String::new()
                } else {
                    format!("{}:", p.ip)
                };
                format!(
                    "{ip}{}->{}/{}",
                    range(p.public, r.len),
                    range(p.private, r.len),
                    p.proto
                )
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The image column: a name, or a short id when the container was created from an id.
fn image_text(c: &ContainerSummary) -> String {
    let image = c.image.as_deref().unwrap_or_default();
    if image.starts_with("sha256:") {
        short_id(image)
    } else {
        sanitize_plain(image)
    }
}

/// One `docker ps -a` row. None for a summary without an id (nothing to act on).
pub fn container_resource(source: &SourceId, c: &ContainerSummary) -> Option<Resource> {
    let id = c.id.as_deref().filter(|id| !id.is_empty())?;
    let labels = clean_labels(c.labels.as_ref());
    let project = labels.get(COMPOSE_PROJECT).cloned();
    let cells = vec![
        container_name(c),
        image_text(c),
        state_text(c).to_owned(),
        sanitize_plain(c.status.as_deref().unwrap_or_default()),
        // RESTARTS and EXIT come from inspect (`inspect::FactCache::fill`); until then the
        // status text's exit code.
        String::new(),
        exit_code_from_status(c.status.as_deref().unwrap_or_default())
            .map(|c| c.to_string())
            .unwrap_or_default(),
        format_ports(c.ports.as_deref().unwrap_or_default()),
        project.clone().unwrap_or_default(),
        String::new(),
    ];
    Some(Resource {
        key: ResourceKey {
            source: source.clone(),
            kind: ResourceKind::Container,
            id: sanitize_plain(id),
        },
        name: cells[0].clone(),
        parent: project,
        health: container_health(c),
        cells,
        created: c.created.and_then(ts_from_secs),
        labels,
        facts: RowFacts {
            ports: container_ports(c.ports.as_deref().unwrap_or_default()),
            ..Default::default()
        },
    })
}

/// The container-side ports, once each (the forward dialog's list).
fn container_ports(ports: &[PortSummary]) -> Vec<u16> {
    let mut list: Vec<u16> = ports.iter().map(|p| p.private_port).collect();
    list.sort_unstable();
    list.dedup();
    list
}

/// All rows, sorted by name so snapshots are stable.
pub fn container_resources(source: &SourceId, list: &[ContainerSummary]) -> Vec<Resource> {
    let mut rows: Vec<Resource> = list
        .iter()
        .filter_map(|c| container_resource(source, c))
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::PortSummaryTypeEnum;

    fn port(ip: Option<&str>, private: u16, public: Option<u16>) -> PortSummary {
        PortSummary {
            ip: ip.map(str::to_owned),
            private_port: private,
            public_port: public,
            typ: Some(PortSummaryTypeEnum::TCP),
        }
    }

    #[test]
    fn ports_are_compact_and_deduplicated() {
        let ports = vec![
            port(Some("0.0.0.0"), 80, Some(8080)),
            port(Some("::"), 80, Some(8080)),
            port(Some("127.0.0.1"), 443, Some(8443)),
            port(None, 5432, None),
            port(Some("0.0.0.0"), 9000, Some(9000)),
            port(Some("0.0.0.0"), 9001, Some(9001)),
            port(Some("0.0.0.0"), 9002, Some(9002)),
        ];
        assert_eq!(
            format_ports(&ports),
            "8080->80/tcp, 9000-9002->9000-9002/tcp, 127.0.0.1:8443->443/tcp, 5432/tcp"
        );
    }

    #[test]
    fn the_forward_dialog_gets_each_container_port_once() {
        let ports = vec![
            port(Some("0.0.0.0"), 443, Some(8443)),
            port(Some("0.0.0.0"), 80, Some(8080)),
            port(Some("::"), 80, Some(8080)),
            port(None, 5432, None),
        ];
        assert_eq!(container_ports(&ports), [80, 443, 5432]);
    }

    #[test]
    fn exit_codes_parse() {
        assert_eq!(exit_code_from_status("Exited (137) 2 hours ago"), Some(137));
        assert_eq!(exit_code_from_status("Exited (0) 1 second ago"), Some(0));
        assert_eq!(exit_code_from_status("Up 5 minutes"), None);
    }
}
