//! Device facts: ONE exec of a small POSIX sh script per refresh, printing `key=value` lines,
//! parsed here. Remote text is sanitised before it is stored.

use serde::Serialize;

use crate::term::sanitize::sanitize_plain;

/// Facts of one device at one time.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facts {
    pub hostname: String,
    pub os: String,
    pub kernel: String,
    pub uptime_secs: Option<u64>,
    /// 1, 5, 15 minute load averages as printed.
    pub load: String,
    /// (mount point, use percent) for `/` and `/data` when present.
    pub disks: Vec<(String, u8)>,
    /// Installed artifact from `mender-update show-artifact` (or `mender show-artifact`).
    pub artifact: Option<String>,
    /// Update state: `pending-commit` when an installed update waits for its commit.
    pub update: Option<String>,
    /// `/run/appliance_failed` exists.
    pub failed: bool,
    /// What runs the Mender client as a daemon (`mender-updated.service`, `mender-update
    /// daemon` ...): standalone updates over SSH would fight it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mender_daemon: Option<String>,
    /// (unit, `systemctl is-active` answer).
    pub units: Vec<(String, String)>,
}

/// Single-quote for sh.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The script for `units`. Each section prints its own key so a missing tool only loses
/// that one fact.
pub fn script(units: &[String], failed_flag: &str) -> String {
    let mut s = String::from(
        r#"PATH="$PATH:/usr/sbin:/sbin"
echo "hostname=$(hostname 2>/dev/null || cat /etc/hostname 2>/dev/null)"
if [ -r /etc/os-release ]; then echo "os=$(sed -n 's/^PRETTY_NAME=//p' /etc/os-release | tr -d '"')"; fi
echo "kernel=$(uname -r 2>/dev/null)"
[ -r /proc/uptime ] && echo "uptime=$(cut -d' ' -f1 /proc/uptime)"
[ -r /proc/loadavg ] && echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
for m in / /data; do
  if [ "$m" = / ] || [ -d "$m" ]; then
    echo "disk=$m $(df -P "$m" 2>/dev/null | awk 'NR==2 {print $5}')"
  fi
done
if command -v mender-update >/dev/null 2>&1; then
  echo "artifact=$(mender-update show-artifact 2>/dev/null | head -n1)"
elif command -v mender >/dev/null 2>&1; then
  echo "artifact=$(mender show-artifact 2>/dev/null | head -n1)"
fi
if command -v mender-update >/dev/null 2>&1 || command -v mender >/dev/null 2>&1; then
  if command -v systemctl >/dev/null 2>&1; then
    for u in mender-updated mender-client; do
      [ "$(systemctl is-active "$u" 2>/dev/null)" = active ] && echo "mender_daemon=$u.service"
    done
  fi
  if command -v pgrep >/dev/null 2>&1; then
    pgrep -f '^([^ ]*/)?mender-update (.* )?daemon( |$)' >/dev/null 2>&1 && echo 'mender_daemon=mender-update daemon'
    pgrep -f '^([^ ]*/)?mender (.* )?-?daemon( |$)' >/dev/null 2>&1 && echo 'mender_daemon=mender daemon'
  fi
fi
if [ -e /var/lib/mender/update-pending ] || [ -e /data/mender/update-pending ] || [ -e /run/appliance_update_pending ]; then echo "update=pending-commit"; fi
"#,
    );
    s.push_str(&format!(
        "if [ -e {} ]; then echo \"failed=1\"; else echo \"failed=0\"; fi\n",
        sh_quote(failed_flag)
    ));
    for u in units {
        let q = sh_quote(u);
        s.push_str(&format!(
            "echo \"unit={u_}=$(systemctl is-active {q} 2>/dev/null || true)\"\n",
            u_ = u.replace(['"', '$', '`', '\\', '\n'], "_"),
        ));
    }
    s.push_str("exit 0\n");
    s
}

pub fn parse(out: &str) -> Facts {
    let mut f = Facts::default();
    for line in out.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = sanitize_plain(v.trim());
        match k {
            "hostname" => f.hostname = v,
            "os" => f.os = v,
            "kernel" => f.kernel = v,
            "uptime" => f.uptime_secs = v.split('.').next().and_then(|s| s.parse().ok()),
            "load" => f.load = v,
            "disk" => {
                if let Some((m, pct)) = v.split_once(' ')
                    && let Ok(p) = pct.trim_end_matches('%').parse::<u8>()
                {
                    f.disks.push((m.to_string(), p));
                }
            }
            "artifact" if !v.is_empty() => f.artifact = Some(v),
            "update" if !v.is_empty() => f.update = Some(v),
            "failed" => f.failed = v == "1",
            // The first one found names it (a unit before its process).
            "mender_daemon" if !v.is_empty() && f.mender_daemon.is_none() => {
                f.mender_daemon = Some(v)
            }
            "unit" => {
                if let Some((u, st)) = v.rsplit_once('=') {
                    let st = if st.is_empty() { "unknown" } else { st };
                    f.units.push((u.to_string(), st.to_string()));
                }
            }
            _ => {}
        }
    }
    f
}

/// "3d4h", "5h12m", "42m", "30s".
pub fn human_uptime(secs: u64) -> String {
    let (d, h, m) = (secs / 86400, (secs % 86400) / 3600, (secs % 3600) / 60);
    if d > 0 {
        format!("{d}d{h}h")
    } else if h > 0 {
        format!("{h}h{m}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{secs}s")
    }
}

impl Facts {
    pub fn disk_cell(&self) -> String {
        self.disks
            .iter()
            .map(|(m, p)| format!("{m} {p}%"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// "2/2 active" or "1/2 active (x.service failed)".
    pub fn units_cell(&self) -> String {
        if self.units.is_empty() {
            return String::new();
        }
        let active = self.units.iter().filter(|(_, s)| s == "active").count();
        let bad: Vec<String> = self
            .units
            .iter()
            .filter(|(_, s)| s != "active")
            .map(|(u, s)| format!("{u} {s}"))
            .collect();
        if bad.is_empty() {
            format!("{active}/{} active", self.units.len())
        } else {
            format!("{active}/{} active ({})", self.units.len(), bad.join(", "))
        }
    }

    pub fn units_ok(&self) -> bool {
        self.units.iter().all(|(_, s)| s == "active")
    }

    /// The limits of `t` these facts reach, in words (`disk /data 93% (limit 90%)`).
    pub fn over(&self, t: &super::file::Thresholds) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(limit) = t.disk_percent {
            for (mount, used) in self.disks.iter().filter(|(_, used)| *used >= limit) {
                out.push(format!("disk {mount} {used}% (limit {limit}%)"));
            }
        }
        let load1 = self
            .load
            .split_whitespace()
            .next()
            .and_then(|l| l.parse::<f64>().ok());
        if let (Some(limit), Some(load)) = (t.load, load1)
            && load >= limit
        {
            out.push(format!("load {load:.2} (limit {limit})"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_each_limit_reached() {
        let f = Facts {
            load: "5.10 2.00 1.00".into(),
            disks: vec![("/".into(), 42), ("/data".into(), 93)],
            ..Default::default()
        };
        let t = |disk_percent, load| super::super::file::Thresholds { disk_percent, load };
        assert_eq!(
            f.over(&t(Some(90), Some(4.0))),
            ["disk /data 93% (limit 90%)", "load 5.10 (limit 4)"]
        );
        assert!(f.over(&t(Some(95), Some(6.0))).is_empty());
        assert!(f.over(&t(None, None)).is_empty());
        assert!(Facts::default().over(&t(Some(1), Some(0.5))).is_empty());
    }

    #[test]
    fn a_mender_daemon_is_named_by_the_first_line_that_finds_it() {
        let f = parse(
            "failed=0\nmender_daemon=mender-updated.service\nmender_daemon=mender-update daemon\n",
        );
        assert_eq!(f.mender_daemon.as_deref(), Some("mender-updated.service"));
        assert_eq!(parse("failed=0\n").mender_daemon, None);
        // The check runs only where a Mender client is installed, after the artifact line.
        let s = script(&[], "/run/appliance_failed");
        assert!(
            s.contains("echo 'mender_daemon=mender-update daemon'"),
            "{s}"
        );
    }

    #[test]
    fn parses_script_output() {
        let f = parse(
            "hostname=gw-1\nos=Debian GNU/Linux 12 (bookworm)\nkernel=6.1.0\nuptime=93784.12\nload=0.10 0.20 0.30\n\
             disk=/ 42%\ndisk=/data 7%\nartifact=release-1.2\nupdate=pending-commit\nfailed=1\n\
             unit=appliance.service=active\nunit=x.service=failed\nunit=y.service=\nnoise\n",
        );
        assert_eq!(f.hostname, "gw-1");
        assert_eq!(f.os, "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(f.uptime_secs, Some(93784));
        assert_eq!(human_uptime(93784), "1d2h");
        assert_eq!(f.disk_cell(), "/ 42%, /data 7%");
        assert_eq!(f.artifact.as_deref(), Some("release-1.2"));
        assert_eq!(f.update.as_deref(), Some("pending-commit"));
        assert!(f.failed);
        assert_eq!(
            f.units_cell(),
            "1/3 active (x.service failed, y.service unknown)"
        );
    }

    #[test]
    fn remote_text_is_sanitised_and_units_quoted() {
        let f = parse("hostname=evil\u{1b}[2Jhost\n");
        assert!(!f.hostname.contains('\u{1b}'));
        assert!(
            script(&["a'b.service".into()], "/run/appliance_failed").contains(r"'a'\''b.service'")
        );
    }
}
