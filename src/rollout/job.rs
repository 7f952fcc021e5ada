//! An install that outlives the console: started detached on the device, its output and exit
//! status kept in a job directory there, followed (again) by whoever drives the update.
//!
//! Why: an install tied to the SSH session dies with it — a console that quits, crashes or
//! loses its link would leave a half-written update that nobody can account for (Mender 3 and
//! 4.0 cannot report an interrupted install; 5.x's `resume` would commit it). Detached, the
//! install finishes on its own and a restarted console reads how it ended.
//!
//! The job directory holds `log` (stdout+stderr), `pid`, and `rc` (the exit status, written
//! through a temp file and a rename, so it is either absent or complete). Only POSIX sh and
//! the tools busybox has too (`setsid` or `nohup`, `wc`, `tail -c`, `head -c`, `kill -0`).

use crate::backend::fleet::facts::sh_quote;

/// Marks the follower's own lines in the stream; nothing an updater prints starts with it.
const MARK: &str = "@@fleetdeck-job ";

/// How following a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobEnd {
    /// The command ended with this exit status.
    Exited(i64),
    /// Not running and no exit status: killed, or the device rebooted under it.
    Lost,
    /// No such job on the device (never started, or its directory was removed).
    Missing,
}

/// Starts `cmd` in a fresh job directory `dir`, in its own session (a dropped SSH session's
/// hang-up does not reach it) with no terminal and stdin from /dev/null. Prints `started`.
pub fn start_script(dir: &str, cmd: &str) -> String {
    let d = sh_quote(dir);
    // `$1` inside the job is the directory: the command itself is never re-quoted. A subshell,
    // so an `exit` in a custom command still leaves the status behind.
    let job = format!(
        "( {cmd}\n) >\"$1/log\" 2>&1 </dev/null; echo $? >\"$1/rc.tmp\" && mv -f \"$1/rc.tmp\" \"$1/rc\""
    );
    let job = sh_quote(&job);
    format!(
        "rm -rf {d} && mkdir -p {d} && : >{d}/log && cd / && \
         if command -v setsid >/dev/null 2>&1; then setsid sh -c {job} sh {d} </dev/null >/dev/null 2>&1 & \
         else nohup sh -c {job} sh {d} </dev/null >/dev/null 2>&1 & fi; \
         echo $! >{d}/pid && echo started"
    )
}

/// Prints the job's output from the start as it grows, then one marker line with how it
/// ended. Checks `rc` *before* reading the log so the last read has everything.
pub fn follow_script(dir: &str) -> String {
    let d = sh_quote(dir);
    format!(
        "d={d}; [ -d \"$d\" ] || {{ echo; echo '{MARK}missing'; exit 0; }}; n=0; \
         while :; do \
           done=0; [ -e \"$d/rc\" ] && done=1; \
           if [ $done = 0 ] && ! kill -0 \"$(cat \"$d/pid\" 2>/dev/null)\" 2>/dev/null; then \
             [ -e \"$d/rc\" ] && done=1 || done=lost; fi; \
           s=$(wc -c <\"$d/log\" 2>/dev/null || echo 0); s=$((s+0)); \
           if [ \"$s\" -gt \"$n\" ]; then tail -c +$((n+1)) \"$d/log\" | head -c $((s-n)); n=$s; fi; \
           case $done in \
             1) echo; echo \"{MARK}exit $(cat \"$d/rc\")\"; exit 0 ;; \
             lost) echo; echo '{MARK}lost'; exit 0 ;; \
           esac; \
           sleep 0.2 2>/dev/null || sleep 1; \
         done"
    )
}

/// The follower's end marker in an output line, if it is one.
pub fn parse_mark(line: &str) -> Option<JobEnd> {
    let rest = line.trim().strip_prefix(MARK.trim_end())?.trim();
    match rest {
        "missing" => Some(JobEnd::Missing),
        "lost" => Some(JobEnd::Lost),
        _ => {
            let code = rest.strip_prefix("exit")?.trim();
            Some(JobEnd::Exited(code.parse().unwrap_or(-1)))
        }
    }
}

/// Where one device's install of one rollout keeps its job on the device.
pub fn dir_for(base: &str, rollout: &str, device: &str) -> String {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!(
        "{}/.fleetdeck-update-{}-{}",
        base.trim_end_matches('/'),
        safe(rollout),
        safe(device)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn sh(script: &str) -> String {
        let out = Command::new("sh").arg("-c").arg(script).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn end_of(out: &str) -> Option<JobEnd> {
        out.lines().rev().find_map(parse_mark)
    }

    #[test]
    fn a_job_runs_detached_and_its_follower_sees_all_output_and_the_status() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("job dir's").display().to_string();
        let cmd = "echo one; sleep 0.3; printf 'two\\n' >&2; printf 'no newline'; exit 4";
        assert_eq!(sh(&start_script(&dir, cmd)).trim(), "started");
        let out = sh(&follow_script(&dir));
        assert!(out.starts_with("one\ntwo\nno newline\n"), "{out:?}");
        assert_eq!(end_of(&out), Some(JobEnd::Exited(4)));
        // Following again (a restarted console) replays it all.
        let again = sh(&follow_script(&dir));
        assert_eq!(again, out);
    }

    #[test]
    fn a_killed_job_is_lost_and_an_unknown_one_missing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("j").display().to_string();
        sh(&start_script(&dir, "echo started-job; sleep 30"));
        std::thread::sleep(std::time::Duration::from_millis(200));
        let pid = std::fs::read_to_string(format!("{dir}/pid")).unwrap();
        // The whole session: the job's shell and its sleep.
        sh(&format!("kill -9 -{0}; kill -9 {0}", pid.trim()));
        let out = sh(&follow_script(&dir));
        assert_eq!(end_of(&out), Some(JobEnd::Lost), "{out}");
        let gone = sh(&follow_script(&format!("{dir}-none")));
        assert_eq!(end_of(&gone), Some(JobEnd::Missing));
    }

    #[test]
    fn job_dirs_are_safe_names() {
        assert_eq!(
            dir_for("/var/tmp/", "r-1", "gw/1 a"),
            "/var/tmp/.fleetdeck-update-r-1-gw_1_a"
        );
        assert_eq!(
            parse_mark("@@fleetdeck-job exit 0"),
            Some(JobEnd::Exited(0))
        );
        assert_eq!(parse_mark("installing"), None);
    }
}
