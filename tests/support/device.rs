//! A simulated appliance for the update feature (#6): one real sshd per device, in its own PID
//! namespace (a session sees only that device's processes), whose sessions get a `PATH` with
//! the scripts of `tests/fixtures/device-sim` first and their own `MENDER_SIM_DIR` (the
//! device's state, owned by the unprivileged login user [`TEST_USER`]).
//!
//! The device is a dual-rootfs Mender device as meta-mender's U-Boot integration builds it
//! (/work/shared/mender/CONTRACT.md "Uncommitted update across reboots"): two "partitions"
//! (`part-a`, `part-b`: the artifact name whose software is on each), a boot environment
//! (`bootenv`: boot_part, upgrade_available, bootcount; bootlimit 1), the running partition
//! (`running`, set at each simulated boot) and a boot id. Its Mender client is one of:
//!
//! - [`Client::Mender3`]: Debian's REAL `mender-client` 3.4 (`/usr/bin/mender`), behind a `mender`
//!   wrapper that logs the call and passes the device's own `--config`/`--data`;
//! - [`Client::Mender40`], [`Client::Mender5`]: `mender-update`, a simulator of the C++ client
//!   written from its source (tests/fixtures/device-sim/mender-update).
//!
//! All of them install real `.mender` files (made with `mender-artifact`, see [`artifact_file`])
//! through real Update Modules (tests/fixtures/device-sim/fleetdeck-rootfs, installed into
//! /usr/share/mender/modules/v3 by [`mender_available`]). `sim-reboot` is the boot loader and
//! drops the SSH connection; `boot-id`, `appliance-sim` and a `systemctl is-active` stand-in
//! complete the device. Nothing here touches the real machine's boot or network (127.0.0.1 only).
//!
//! Test switches ([`SimDevice::set_mode`], one per line in `mode`):
//!
//! | mode | effect |
//! |------|--------|
//! | `install-fail` | the Update Module's ArtifactInstall exits 1 (before touching the boot env) |
//! | `commit-veto` | ArtifactCommit exits 1, as a vetoing ArtifactCommit_Enter state script would |
//! | `rollback-fail` | ArtifactRollback exits 1 (the client then marks `<name>_INCONSISTENT`) |
//! | `boot-fails` | the new software does not come up on its first boot; the watchdog reboots, so one `sim-reboot` ends on the OLD partition (boot loader fallback) |
//! | `appliance-fail` | `appliance-sim`'s update fails at 60 % |
//!
//! plus [`SimDevice::set_step`] (a slow ArtifactInstall: 5 x step; appliance progress pace) and
//! [`SimDevice::set_down_secs`] (`boot-id` fails for a while after a reboot).

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use super::sshd::{self, Sshd, SshdOpts, TEST_USER};

/// The simulation scripts copied into every device's bin dir.
const SCRIPTS: &[&str] = &["sim-reboot", "boot-id", "appliance-sim", "systemctl"];
/// Where Mender looks for Update Modules: 3.4 hardcodes it (conf/paths.go DefaultModulesPath),
/// 4.x/5.x derive it from the data dir /usr/share/mender (src/common/conf.hpp:118).
pub const MODULES_DIR: &str = "/usr/share/mender/modules/v3";
/// The test Update Modules (all one script, tests/fixtures/device-sim/fleetdeck-rootfs; the
/// name picks the behaviour). `fleetdeck-rootfs`: dual rootfs, reboot Automatic, rollback Yes.
pub const ROOTFS_MODULE: &str = "fleetdeck-rootfs";
/// An application: no reboot, rollback Yes.
pub const APP_MODULE: &str = "fleetdeck-app";
/// Without rollback (reboot Yes): the client commits it at once.
pub const NOROLL_MODULE: &str = "fleetdeck-noroll";
/// The device type of every simulated device (and of [`artifact_file`]'s artifacts).
pub const DEVICE_TYPE: &str = "fleetdeck-sim";
/// The name in /etc/mender/artifact_info: Mender 3.4 refuses to install on a device that never
/// installed anything without it ("Reading headers failed: open /etc/mender/artifact_info").
pub const FACTORY_ARTIFACT: &str = "factory";

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/device-sim")
}

/// Which Mender client a device runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// The real Go client, Debian's mender-client 3.4 (`mender`).
    Mender3,
    /// `mender-update` 4.0.x (no `resume`, one-line failure texts).
    Mender40,
    /// `mender-update` 5.x (`resume`, `--stop-before`).
    Mender5,
}

impl Client {
    /// The command on the device: `mender` or `mender-update`.
    pub fn cli(self) -> &'static str {
        match self {
            Client::Mender3 => "mender",
            _ => "mender-update",
        }
    }

    /// The `client` file's content (read by the simulator and the Update Module).
    fn tag(self) -> &'static str {
        match self {
            Client::Mender3 => "3",
            Client::Mender40 => "4.0",
            Client::Mender5 => "5",
        }
    }

    /// The daemon's process as its systemd unit starts it: `mender daemon` (mender@3.5.3
    /// support/mender-client.service) or `mender-update daemon` (support/mender-updated.service).
    pub fn daemon_unit(self) -> &'static str {
        match self {
            Client::Mender3 => "mender-client",
            _ => "mender-updated",
        }
    }
}

/// uid and gid of `user` (via `id`).
fn user_ids(user: &str) -> (u32, u32) {
    static IDS: OnceLock<(u32, u32)> = OnceLock::new();
    let id = |flag: &str| -> u32 {
        super::run_ok("id", &[flag, user])
            .parse()
            .unwrap_or_else(|e| panic!("id {flag} {user}: {e}"))
    };
    if user == TEST_USER {
        return *IDS.get_or_init(|| (id("-u"), id("-g")));
    }
    (id("-u"), id("-g"))
}

fn chown_to_user(path: &Path) {
    let (uid, gid) = user_ids(TEST_USER);
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// Write `content` to `path` only if it differs, through a temp file and a rename in the same
/// directory (atomic for readers; several test processes may do this at once).
fn install_file(path: &Path, content: &[u8], mode: u32) -> std::io::Result<()> {
    if std::fs::read(path).is_ok_and(|c| c == content)
        && std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o7777 == mode)
    {
        return Ok(());
    }
    let dir = path.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.fleetdeck-tmp.{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    std::fs::write(&tmp, content)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
    std::fs::rename(&tmp, path)
}

/// The Mender side of the simulation is usable: Debian's `mender-client` (/usr/bin/mender) and
/// `mender-artifact`, /usr/bin/python3 (the 4.x/5.x simulator), and (as root, once per process,
/// idempotent) the test Update Modules in [`MODULES_DIR`] and /etc/mender/artifact_info.
/// Gate tests with `support::require("mender-client", device::mender_available())`.
pub fn mender_available() -> bool {
    static OK: OnceLock<Result<(), String>> = OnceLock::new();
    let r = OK.get_or_init(|| {
        if !Path::new("/usr/bin/mender").exists() {
            return Err("/usr/bin/mender missing (apt-get install mender-client)".into());
        }
        if Command::new("mender-artifact")
            .arg("--version")
            .output()
            .is_err()
        {
            return Err("mender-artifact missing (apt-get install mender-artifact)".into());
        }
        if !Path::new("/usr/bin/python3").exists() {
            return Err("/usr/bin/python3 missing (apt-get install python3)".into());
        }
        let module = std::fs::read(fixture_dir().join("fleetdeck-rootfs"))
            .map_err(|e| format!("read fixture fleetdeck-rootfs: {e}"))?;
        for name in [ROOTFS_MODULE, APP_MODULE, NOROLL_MODULE] {
            install_file(&Path::new(MODULES_DIR).join(name), &module, 0o755)
                .map_err(|e| format!("install {MODULES_DIR}/{name} (need root): {e}"))?;
        }
        let info = Path::new("/etc/mender/artifact_info");
        if !info.exists() {
            install_file(
                info,
                format!("artifact_name={FACTORY_ARTIFACT}\n").as_bytes(),
                0o644,
            )
            .map_err(|e| format!("write {} (need root): {e}", info.display()))?;
        }
        Ok(())
    });
    if let Err(why) = r {
        super::note_unavailable("mender-client", why.clone());
    }
    r.is_ok()
}

/// sshd and the Mender side are both there (the gate for tests that start a [`SimDevice`]).
pub fn available() -> bool {
    super::require("sshd", sshd::sshd_available())
        && super::require("mender-client", mender_available())
}

/// What [`artifact_file_with`] builds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArtifactSpec {
    pub name: String,
    /// The payload type = Update Module ([`ROOTFS_MODULE`], [`APP_MODULE`], [`NOROLL_MODULE`]).
    pub module: String,
    /// Payload size in bytes (pseudo-random, so the artifact is about this big).
    pub size: usize,
    pub device_type: String,
}

impl ArtifactSpec {
    pub fn new(name: &str) -> ArtifactSpec {
        ArtifactSpec {
            name: name.to_string(),
            module: ROOTFS_MODULE.to_string(),
            size: 1024,
            device_type: DEVICE_TYPE.to_string(),
        }
    }

    pub fn module(mut self, module: &str) -> Self {
        self.module = module.to_string();
        self
    }

    pub fn size(mut self, bytes: usize) -> Self {
        self.size = bytes;
        self
    }

    pub fn device_type(mut self, t: &str) -> Self {
        self.device_type = t.to_string();
        self
    }
}

/// A real rootfs artifact named `name` (1 KiB payload), see [`artifact_file_with`].
pub fn artifact_file(name: &str) -> PathBuf {
    artifact_file_with(&ArtifactSpec::new(name))
}

/// A real Mender artifact, `mender-artifact write module-image -T <module> -t <device type>
/// -n <name> -f <payload> -o <file>`. Cached in `$TMPDIR/fleetdeck-test-artifacts/<key>/`,
/// shared by every test process and run (made in a private dir, then renamed into place);
/// the file is `<name>.mender`, readable by the login user, so it can be uploaded or served
/// under its own name.
pub fn artifact_file_with(spec: &ArtifactSpec) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let root = std::env::temp_dir().join("fleetdeck-test-artifacts");
    let _ = std::fs::create_dir(&root);
    chmod(&root, 0o755);
    let mut h = std::collections::hash_map::DefaultHasher::new();
    spec.hash(&mut h);
    let readable: String = format!("{}-{}-{}", spec.module, spec.name, spec.size)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let dir = root.join(format!("{readable}-{:016x}", h.finish()));
    let file_name = format!("{}.mender", spec.name.replace('/', "_"));
    let out = dir.join(&file_name);
    if out.exists() {
        return out;
    }
    let tmp = tempfile::Builder::new()
        .prefix(".build-")
        .tempdir_in(&root)
        .expect("temp dir");
    let payload = tmp.path().join("payload");
    std::fs::write(&payload, pseudo_random(spec.size, h.finish())).expect("payload");
    let o = Command::new("mender-artifact")
        .args(["write", "module-image", "-T", &spec.module, "-t"])
        .arg(&spec.device_type)
        .arg("-n")
        .arg(&spec.name)
        .arg("-f")
        .arg(&payload)
        .arg("-o")
        .arg(tmp.path().join(&file_name))
        .stdin(Stdio::null())
        .output()
        .expect("run mender-artifact");
    assert!(
        o.status.success(),
        "mender-artifact write {spec:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::remove_file(&payload).expect("rm payload");
    chmod(&tmp.path().join(&file_name), 0o644);
    chmod(tmp.path(), 0o755);
    // Another process may have won the race: then its copy is as good as ours.
    let built = tmp.keep();
    if std::fs::rename(&built, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&built);
    }
    assert!(out.exists(), "artifact {} missing", out.display());
    out
}

/// Incompressible, deterministic bytes (xorshift64*).
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ seed.wrapping_mul(0xD1B5_4A32_D192_ED03);
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        v.extend_from_slice(&x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    v.truncate(len);
    v
}

/// One value of the main database of an LMDB environment file (the real Mender 3 client keeps
/// its store, `<data>/mender-store`, in LMDB): a read-only walk from the newer of the two meta
/// pages down the B-tree, following the documented on-disk layout of LMDB 0.9 (64-bit). Stale
/// copies of pages (copy-on-write) are never looked at. Only for an idle client.
pub fn lmdb_get(file: &Path, key: &[u8]) -> Option<Vec<u8>> {
    const P_BRANCH: u16 = 0x01;
    const P_LEAF: u16 = 0x02;
    const F_BIGDATA: u16 = 0x01;
    const MAGIC: u32 = 0xBEEF_C0DE;
    let buf = std::fs::read(file).ok()?;
    let u16_at = |o: usize| buf.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |o: usize| {
        buf.get(o..o + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
    };
    let u64_at = |o: usize| {
        buf.get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    };
    // Meta: 16-byte page header, magic, version, address, mapsize, dbs[2] (48 bytes each:
    // pad = page size for dbs[0], flags, depth, 4 counters, root), last_pg, txnid.
    let page_size = u32_at(16 + 24)? as usize;
    let meta = |pg: usize| -> Option<(u64, u64)> {
        let m = pg * page_size + 16;
        (u32_at(m)? == MAGIC).then_some(())?;
        Some((u64_at(m + 128)?, u64_at(m + 112)?)) // (txnid, main db root)
    };
    let (_, mut pgno) = [meta(0), meta(1)].into_iter().flatten().max()?;
    if pgno == u64::MAX {
        return None; // empty database
    }
    loop {
        let page = pgno as usize * page_size;
        let flags = u16_at(page + 10)?;
        let lower = u16_at(page + 12)? as usize;
        let nodes: Vec<usize> = (0..(lower.checked_sub(16)? / 2))
            .map(|i| u16_at(page + 16 + 2 * i).map(|p| page + p as usize))
            .collect::<Option<_>>()?;
        // Node: lo, hi (data size, or with flags the child page on branches), flags, ksize, key.
        let node_key = |n: usize| -> Option<&[u8]> {
            let ksize = u16_at(n + 6)? as usize;
            buf.get(n + 8..n + 8 + ksize)
        };
        if flags & P_BRANCH != 0 {
            // The last node whose key is <= the wanted key (node 0's key is implicitly empty).
            let mut child = None;
            for (i, &n) in nodes.iter().enumerate() {
                if i == 0 || node_key(n)? <= key {
                    let lo = u16_at(n)? as u64;
                    let hi = u16_at(n + 2)? as u64;
                    let fl = u16_at(n + 4)? as u64;
                    child = Some(lo | (hi << 16) | (fl << 32));
                }
            }
            pgno = child?;
            continue;
        }
        if flags & P_LEAF == 0 {
            return None;
        }
        for &n in &nodes {
            if node_key(n)? != key {
                continue;
            }
            let size = u16_at(n)? as usize | ((u16_at(n + 2)? as usize) << 16);
            let data = n + 8 + key.len();
            if u16_at(n + 4)? & F_BIGDATA != 0 {
                let overflow = u64_at(data)? as usize * page_size + 16;
                return buf.get(overflow..overflow + size).map(<[u8]>::to_vec);
            }
            return buf.get(data..data + size).map(<[u8]>::to_vec);
        }
        return None;
    }
}

/// A YAML double-quoted scalar (JSON escaping is valid YAML).
pub fn yaml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// How a simulated device starts.
#[derive(Debug, Clone)]
pub struct SimOpts {
    /// The committed artifact at start, e.g. "release-1": really installed, booted and
    /// committed by the device's client, so `show-artifact` prints it.
    pub artifact: String,
    /// The Mender client (default [`Client::Mender5`]).
    pub client: Client,
    /// Public key lines allowed to log in as [`TEST_USER`].
    pub authorized: Vec<String>,
    /// The client's data dir belongs to root, as /var/lib/mender does on a real device: the
    /// unprivileged login user's client then fails at every command (even `show-artifact`),
    /// as the real one does. Default false: the client runs as the login user.
    pub client_needs_root: bool,
}

impl Default for SimOpts {
    fn default() -> Self {
        SimOpts {
            artifact: "release-1".into(),
            client: Client::Mender5,
            authorized: Vec::new(),
            client_needs_root: false,
        }
    }
}

/// The boot loader's environment (meta-mender U-Boot: `mender_boot_part`, `upgrade_available`,
/// `bootcount`; bootlimit is 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootEnv {
    /// `a` or `b`: the partition the next boot starts.
    pub boot_part: String,
    /// An update waits for its commit; the boot loader falls back after a second boot.
    pub upgrade_available: bool,
    /// Boots since the update was installed.
    pub bootcount: u32,
}

/// One simulated device: its own sshd (own PID namespace), bin dir and state dir. Everything is
/// removed (every process of the device killed) on drop.
pub struct SimDevice {
    pub sshd: Sshd,
    /// `MENDER_SIM_DIR`: the device's state, owned by [`TEST_USER`].
    pub dir: PathBuf,
    pub name: String,
    /// The device's bin dir (first on its sessions' `PATH`).
    pub bin: PathBuf,
    /// Tags written by [`SimDevice::fleet_entry`] (default `[prod]`).
    pub tags: Vec<String>,
    /// The device's Mender client.
    pub client: Client,
    /// Its client's data dir is root's, as on a real device: fleetdeck must insist on root.
    pub client_needs_root: bool,
    root: tempfile::TempDir,
}

impl SimDevice {
    /// Start the device's sshd (sessions get `PATH=<bin>:/usr/local/bin:/usr/bin:/bin` and
    /// `MENDER_SIM_DIR=<dir>`), then bring it to `opts.artifact` the way a device gets there:
    /// its client installs a real artifact of that name, the device boots it, the client
    /// commits it (not recorded in [`SimDevice::calls`]). Needs [`available`].
    pub fn start(name: &str, opts: SimOpts) -> SimDevice {
        assert!(
            mender_available(),
            "the device simulation needs the Mender tools: gate the test with support::device::available()"
        );
        let root = tempfile::Builder::new()
            .prefix(&format!("fleetdeck-sim-{name}-"))
            .tempdir()
            .expect("temp dir");
        // Created 0700 by root: the login user must reach bin/ and sim/.
        chmod(root.path(), 0o755);
        let bin = root.path().join("bin");
        let dir = root.path().join("sim");
        for d in [&bin, &dir] {
            std::fs::create_dir(d).expect("mkdir");
            chmod(d, 0o755);
        }
        chown_to_user(&dir);
        let fixtures = fixture_dir();
        for s in SCRIPTS.iter().copied().chain([opts.client.cli()]) {
            let to = bin.join(s);
            std::fs::copy(fixtures.join(s), &to)
                .unwrap_or_else(|e| panic!("copy {s} to {}: {e}", to.display()));
            chmod(&to, 0o755);
        }
        let sshd = Sshd::start(SshdOpts {
            authorized: opts.authorized.clone(),
            set_env: vec![
                format!("PATH={}:/usr/local/bin:/usr/bin:/bin", bin.display()),
                format!("MENDER_SIM_DIR={}", dir.display()),
            ],
            pid_namespace: true,
            ..Default::default()
        });
        let dev = SimDevice {
            sshd,
            dir,
            name: name.to_string(),
            bin,
            tags: vec!["prod".into()],
            client: opts.client,
            client_needs_root: opts.client_needs_root,
            root,
        };
        // A factory image on partition a, nothing on b; booted from a.
        dev.write("client", &format!("{}\n", opts.client.tag()));
        dev.write("bootenv", "boot_part=a\nupgrade_available=0\nbootcount=0\n");
        dev.write("running", "a\n");
        dev.write("part-a", &format!("{FACTORY_ARTIFACT}\n"));
        dev.write("part-b", "\n");
        dev.write("boot_id", &format!("{}\n", new_boot_id()));
        dev.write("calls", "");
        dev.write("mode", "");
        for d in ["upload", "mender-data"] {
            std::fs::create_dir(dev.dir.join(d)).expect("mkdir");
            chown_to_user(&dev.dir.join(d));
        }
        dev.write(
            "mender-data/device_type",
            &format!("device_type={DEVICE_TYPE}\n"),
        );
        // The client's configuration: nothing but defaults (a standalone-only device); the
        // fallback config must exist for Mender 3's --fallback-config.
        dev.write("mender.conf", "{}\n");
        dev.write("none.conf", "{}\n");
        dev.provision(&opts.artifact);
        if opts.client_needs_root {
            let data = dev.dir.join("mender-data");
            let data = data.to_str().expect("utf-8 path");
            super::run_ok("chown", &["-R", "root:root", data]);
            super::run_ok("chmod", &["-R", "go-w", data]);
        }
        dev
    }

    /// Install, boot and commit `artifact` with the device's own client, then forget the calls.
    fn provision(&self, artifact: &str) {
        let file = artifact_file(artifact);
        let cli = self.client.cli();
        let steps: [(Vec<String>, i32); 3] = [
            (
                vec![
                    cli.into(),
                    "install".into(),
                    "--reboot-exit-code".into(),
                    file.display().to_string(),
                ],
                4,
            ),
            (vec!["sim-reboot".into(), "--no-drop".into()], 0),
            (vec![cli.into(), "commit".into()], 0),
        ];
        for (argv, want) in steps {
            let o = self.run_as_user(&argv);
            assert_eq!(
                o.status.code(),
                Some(want),
                "provisioning {} with {artifact}: `{}`:\n{}\n{}",
                self.name,
                argv.join(" "),
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        self.reset_calls();
    }

    /// Run `argv` (a program in the device's bin dir or on the PATH) as the login user with a
    /// session's environment, outside any SSH session (test support only).
    fn run_as_user(&self, argv: &[String]) -> Output {
        let (uid, gid) = user_ids(TEST_USER);
        Command::new("setpriv")
            .arg(format!("--reuid={uid}"))
            .arg(format!("--regid={gid}"))
            .arg("--clear-groups")
            .arg("--")
            .args(argv)
            .env_clear()
            .env(
                "PATH",
                format!("{}:/usr/local/bin:/usr/bin:/bin", self.bin.display()),
            )
            .env("MENDER_SIM_DIR", &self.dir)
            .env("HOME", &self.dir)
            .env("LANG", "C.UTF-8")
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .expect("setpriv")
    }

    /// Write a file in the state dir, owned by the login user (the scripts replace them).
    pub fn write(&self, file: &str, content: &str) {
        let p = self.dir.join(file);
        std::fs::write(&p, content).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
        chown_to_user(&p);
    }

    fn read(&self, file: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join(file)).ok()
    }

    fn first_line(&self, file: &str) -> Option<String> {
        self.read(file)
            .map(|s| s.lines().next().unwrap_or("").trim().to_string())
    }

    /// The 4.x/5.x simulator's database (mender-data/mender-store.json).
    fn store(&self) -> serde_json::Value {
        self.read("mender-data/mender-store.json")
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// The committed artifact: what `show-artifact` prints (the client's database; the old name
    /// until a commit, `<name>_INCONSISTENT` after a failed rollback).
    pub fn artifact(&self) -> String {
        match self.client {
            // mender@3.5.3 device/device.go GetCurrentArtifactName: the database, else
            // /etc/mender/artifact_info (a device that never installed anything).
            Client::Mender3 => self
                .mender3_store("artifact-name")
                .map(|v| String::from_utf8_lossy(&v).into_owned())
                .or_else(|| {
                    std::fs::read_to_string("/etc/mender/artifact_info")
                        .ok()?
                        .lines()
                        .find_map(|l| l.strip_prefix("artifact_name=").map(str::to_string))
                })
                .unwrap_or_default(),
            _ => self.store()["artifact-name"]
                .as_str()
                .unwrap_or("unknown")
                .to_string(),
        }
    }

    /// A key of the real Mender 3 client's LMDB store.
    fn mender3_store(&self, key: &str) -> Option<Vec<u8>> {
        lmdb_get(&self.dir.join("mender-data/mender-store"), key.as_bytes())
    }

    /// The client's standalone state (`standalone-state` in its database), if an update is in
    /// progress.
    fn standalone_state(&self) -> Option<serde_json::Value> {
        let v = match self.client {
            Client::Mender3 => {
                serde_json::from_slice(&self.mender3_store("standalone-state")?).ok()?
            }
            _ => self.store()["standalone-state"].clone(),
        };
        (!v.is_null()).then_some(v)
    }

    /// The installed, not yet committed (or rolled back) artifact: the client's standalone
    /// state, read from its database (Mender 3: its LMDB store).
    pub fn pending(&self) -> Option<String> {
        self.standalone_state()?["ArtifactName"]
            .as_str()
            .map(str::to_string)
    }

    /// The Update Module's file tree is there (`<data>/modules/v3/payloads/0000/tree`): the
    /// clients keep it from an install until the end of its commit or rollback (Cleanup).
    pub fn module_tree_exists(&self) -> bool {
        self.dir
            .join("mender-data/modules/v3/payloads/0000/tree")
            .exists()
    }

    /// Where the standalone state stands: 5.x's `InState` (e.g. `Before_ArtifactCommit_Enter`).
    /// Mender 3 and 4.0 store version 1 states, which 5.x reads as that state too
    /// (master src/mender-update/standalone/standalone.cpp:104-116).
    pub fn pending_state(&self) -> Option<String> {
        Some(
            self.standalone_state()?["InState"]
                .as_str()
                .unwrap_or("Before_ArtifactCommit_Enter")
                .to_string(),
        )
    }

    /// Has the device booted the pending artifact (running it, update not committed)?
    pub fn booted(&self) -> bool {
        self.pending()
            .is_some_and(|p| self.running() == p && self.boot_env().upgrade_available)
    }

    /// The artifact on the running partition (the software the device runs now).
    pub fn running(&self) -> String {
        let part = self.running_part();
        self.first_line(&format!("part-{part}")).unwrap_or_default()
    }

    /// The running partition, `a` or `b`.
    pub fn running_part(&self) -> String {
        self.first_line("running").unwrap_or_default()
    }

    /// The artifact on partition `part` (`a` or `b`).
    pub fn partition(&self, part: &str) -> String {
        self.first_line(&format!("part-{part}")).unwrap_or_default()
    }

    /// The boot environment.
    pub fn boot_env(&self) -> BootEnv {
        let env = self.read("bootenv").unwrap_or_default();
        let get = |k: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        BootEnv {
            boot_part: get("boot_part"),
            upgrade_available: get("upgrade_available") == "1",
            bootcount: get("bootcount").parse().unwrap_or(0),
        }
    }

    /// The application installed by [`APP_MODULE`] / [`NOROLL_MODULE`] artifacts, if any.
    pub fn app(&self) -> Option<String> {
        self.first_line("app").filter(|s| !s.is_empty())
    }

    pub fn boot_id(&self) -> String {
        self.first_line("boot_id").unwrap_or_default()
    }

    /// Test switches (see the module docs: `install-fail`, `commit-veto`, `rollback-fail`,
    /// `boot-fails`, `appliance-fail`); replaces the previous ones.
    pub fn set_mode(&self, modes: &[&str]) {
        let mut s = modes.join("\n");
        if !s.is_empty() {
            s.push('\n');
        }
        self.write("mode", &s);
    }

    /// A slow device: ArtifactInstall takes 5 x `secs`; the appliance updater's progress steps
    /// are `secs` apart.
    pub fn set_step(&self, secs: f64) {
        self.write("step", &format!("{secs}\n"));
    }

    /// After the next `sim-reboot`, `boot-id` fails for `secs` seconds (device still booting).
    pub fn set_down_secs(&self, secs: u64) {
        self.write("down_secs", &format!("{secs}\n"));
    }

    /// A power cycle with no SSH session involved (the boot loader runs as in `sim-reboot`);
    /// recorded as `power-cycle`.
    pub fn power_cycle(&self) {
        let o = self.run_as_user(&["sim-reboot".into(), "--no-drop".into()]);
        assert!(
            o.status.success(),
            "power cycle: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    /// A power loss: every process of the device dies at once (SIGKILL to all but its PID 1,
    /// the sshd listener, which stands for the machine), then the device boots
    /// ([`SimDevice::power_cycle`]). Open SSH sessions drop.
    pub fn power_loss(&self) {
        let pid = self.sshd.server_pid().expect("device sshd pid");
        let _ = Command::new("nsenter")
            .arg("-t")
            .arg(pid.to_string())
            .args(["-p", "-m", "--", "kill", "-KILL", "-1"])
            .stdin(Stdio::null())
            .output();
        self.power_cycle();
    }

    /// Every call on the device, in order: the client (`install SRC`, `commit`, `rollback`,
    /// `resume ...`, `show-artifact`, ...), the Update Module (`fleetdeck-rootfs ArtifactInstall`,
    /// ...), `reboot`, `power-cycle`, `boot-id`, `appliance start`, ...
    pub fn calls(&self) -> Vec<String> {
        self.read("calls")
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// How many calls start with `prefix` (e.g. `"install "`).
    pub fn count_calls(&self, prefix: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.starts_with(prefix))
            .count()
    }

    /// Forget the calls so far.
    pub fn reset_calls(&self) {
        self.write("calls", "");
    }

    /// Start the Mender daemon, as its systemd unit would (root, detached), inside the device:
    /// a process that looks like `mender-update daemon` (4.x/5.x) or `mender daemon` (3.x) to
    /// ps/pgrep and makes the device's `systemctl is-active mender-updated|mender-client`
    /// answer `active`. It only idles (no server). Returns its PID inside the device.
    pub fn start_daemon(&self) -> u32 {
        let daemon_dir = self.root.path().join("daemon");
        let _ = std::fs::create_dir(&daemon_dir);
        chmod(&daemon_dir, 0o755);
        let exe = daemon_dir.join(self.client.cli());
        if !exe.exists() {
            std::fs::copy(fixture_dir().join("sim-daemon"), &exe).expect("copy sim-daemon");
            chmod(&exe, 0o755);
        }
        let pid = self.sshd.server_pid().expect("device sshd pid");
        // The shell inside the namespace backgrounds the daemon and exits: orphaned, it is
        // adopted (and eventually reaped) by the device's PID 1, its sshd.
        let o = Command::new("nsenter")
            .arg("-t")
            .arg(pid.to_string())
            .args(["-p", "-m", "--", "/bin/sh", "-c"])
            .arg("setsid \"$0\" daemon </dev/null >/dev/null 2>&1 & echo $!")
            .arg(&exe)
            .stdin(Stdio::null())
            .output()
            .expect("nsenter");
        assert!(
            o.status.success(),
            "start daemon: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse()
            .expect("daemon pid")
    }

    /// Stop the daemon started by [`SimDevice::start_daemon`] (SIGTERM to its PID in the device).
    pub fn stop_daemon(&self, pid: u32) {
        let ns = self.sshd.server_pid().expect("device sshd pid");
        let _ = Command::new("nsenter")
            .arg("-t")
            .arg(ns.to_string())
            .args(["-p", "-m", "--", "kill", "-TERM"])
            .arg(pid.to_string())
            .stdin(Stdio::null())
            .output();
    }

    /// `<dir>/appliance_failed`.
    pub fn failed_flag(&self) -> PathBuf {
        self.dir.join("appliance_failed")
    }

    /// The appliance updater's state: `active`, `inactive` or `failed`.
    pub fn appliance_state(&self) -> String {
        self.first_line("appliance.state")
            .unwrap_or_else(|| "inactive".into())
    }

    /// The appliance updater's output so far.
    pub fn appliance_log(&self) -> String {
        self.read("appliance.log").unwrap_or_default()
    }

    /// `<dir>/upload` (the fleet entry's `upload_dir`), writable by the login user.
    pub fn upload_dir(&self) -> PathBuf {
        self.dir.join("upload")
    }

    pub fn port(&self) -> u16 {
        self.sshd.port()
    }

    /// The known_hosts line of this device's host key.
    pub fn known_hosts_line(&self) -> String {
        self.sshd.known_hosts_line(self.port())
    }

    /// The YAML of one fleet-file device entry (a list item, indented for `devices:`) with
    /// every update command pointed at the simulation. `updater`: mender, appliance, custom
    /// (a custom_updater block driving the device's Mender CLI) or none.
    pub fn fleet_entry(&self, updater: &str, identity_file: &Path, known_hosts: &Path) -> String {
        let q = yaml_str;
        let tags: Vec<String> = self.tags.iter().map(|t| q(t)).collect();
        let mut y = String::new();
        y += &format!("  - name: {}\n", q(&self.name));
        y += "    host: 127.0.0.1\n";
        y += &format!("    port: {}\n", self.port());
        y += &format!("    user: {}\n", q(TEST_USER));
        y += &format!(
            "    identity_file: {}\n",
            q(&identity_file.display().to_string())
        );
        y += &format!(
            "    known_hosts: {}\n",
            q(&known_hosts.display().to_string())
        );
        y += &format!("    tags: [{}]\n", tags.join(", "));
        y += &format!("    updater: {}\n", q(updater));
        if updater == "custom" {
            let cli = self.client.cli();
            y += "    custom_updater:\n";
            y += &format!(
                "      install: {}\n",
                q(&format!("{cli} install --reboot-exit-code {{artifact}}"))
            );
            y += &format!("      commit: {}\n", q(&format!("{cli} commit")));
            y += &format!("      rollback: {}\n", q(&format!("{cli} rollback")));
            y += &format!("      status: {}\n", q(&format!("{cli} show-artifact")));
        }
        let update: [(&str, String); 9] = [
            ("reboot_command", "sim-reboot".into()),
            ("reboot_timeout", "30s".into()),
            ("boot_id_command", "boot-id".into()),
            ("failed_flag", self.failed_flag().display().to_string()),
            ("upload_dir", self.upload_dir().display().to_string()),
            ("appliance_start", "appliance-sim start".into()),
            ("appliance_follow", "exec appliance-sim follow".into()),
            ("appliance_status", "appliance-sim status".into()),
            (
                "appliance_clear",
                "rm -f {failed_flag} && appliance-sim restart".into(),
            ),
        ];
        y += "    update:\n";
        for (k, v) in update {
            y += &format!("      {k}: {}\n", q(&v));
        }
        if !self.client_needs_root {
            // This device's client really runs as the (unprivileged) login user.
            y += "      require_root: false\n";
        }
        y
    }

    /// Run `cmd` on the device with the OpenSSH client (`ssh -F /dev/null`, batch mode, strict
    /// host key checking against `known_hosts`), bounded by `timeout` (then killed).
    pub fn ssh(&self, key: &Path, known_hosts: &Path, cmd: &str, timeout: Duration) -> Output {
        ssh_client(self.port(), key, known_hosts, cmd, timeout)
    }
}

/// A fresh boot id (the kernel's random uuid).
fn new_boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/uuid")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| {
            format!(
                "{:x}",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0)
            )
        })
}

/// `ssh -p PORT ... fleetdeck-dev@127.0.0.1 CMD` with the OpenSSH client, killed after
/// `timeout`; the status is then the kill's (not success).
pub fn ssh_client(
    port: u16,
    key: &Path,
    known_hosts: &Path,
    cmd: &str,
    timeout: Duration,
) -> Output {
    let mut child = ssh_spawn(port, key, known_hosts, cmd);
    let pipe = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = pipe(child.stdout.take().map(|s| Box::new(s) as _));
    let stderr = pipe(child.stderr.take().map(|s| Box::new(s) as _));
    let end = std::time::Instant::now() + timeout;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait ssh") {
            break st;
        }
        if std::time::Instant::now() >= end {
            let _ = child.kill();
            break child.wait().expect("wait ssh");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

/// The OpenSSH client running `cmd` on the device at `port` (stdout and stderr piped), for a
/// test that cuts the connection itself: killing the child is a dropped session.
pub fn ssh_spawn(port: u16, key: &Path, known_hosts: &Path, cmd: &str) -> std::process::Child {
    Command::new("ssh")
        .args(["-F", "/dev/null", "-T", "-i"])
        .arg(key)
        .arg("-p")
        .arg(port.to_string())
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args([
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "ConnectTimeout=10",
            "-o",
            "LogLevel=ERROR",
        ])
        .arg(format!("{TEST_USER}@127.0.0.1"))
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ssh")
}

/// A temp dir with an ed25519 client key, N devices (`dev-0`, `dev-1`, ...), their known_hosts
/// file and a fleet.yaml listing them all with one `updater`.
pub struct SimFleet {
    pub dir: tempfile::TempDir,
    pub devices: Vec<SimDevice>,
    pub fleet_file: PathBuf,
    pub key: PathBuf,
    pub known_hosts: PathBuf,
    /// The `updater:` of every device in the fleet file.
    pub updater: String,
}

impl SimFleet {
    pub fn start(n: usize, updater: &str, artifact: &str) -> SimFleet {
        Self::start_with(n, updater, |_| SimOpts {
            artifact: artifact.to_string(),
            ..Default::default()
        })
    }

    /// Like [`SimFleet::start`] with per-device options (`authorized` is filled in). Devices
    /// start in parallel.
    pub fn start_with(n: usize, updater: &str, opts: impl Fn(usize) -> SimOpts) -> SimFleet {
        let dir = tempfile::tempdir().expect("temp dir");
        let (key, public) = sshd::keygen(dir.path(), "id_ed25519", "ed25519", "");
        let all: Vec<SimOpts> = (0..n)
            .map(|i| {
                let mut o = opts(i);
                o.authorized.push(public.clone());
                o
            })
            .collect();
        let devices: Vec<SimDevice> = std::thread::scope(|s| {
            let handles: Vec<_> = all
                .into_iter()
                .enumerate()
                .map(|(i, o)| s.spawn(move || SimDevice::start(&format!("dev-{i}"), o)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        let known_hosts = dir.path().join("known_hosts");
        let lines: String = devices
            .iter()
            .map(|d| d.known_hosts_line() + "\n")
            .collect();
        std::fs::write(&known_hosts, lines).expect("known_hosts");
        let fleet = SimFleet {
            fleet_file: dir.path().join("fleet.yaml"),
            dir,
            devices,
            key,
            known_hosts,
            updater: updater.to_string(),
        };
        fleet.write_fleet();
        fleet
    }

    pub fn device(&self, name: &str) -> &SimDevice {
        self.devices
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no simulated device {name}"))
    }

    pub fn device_mut(&mut self, name: &str) -> &mut SimDevice {
        self.devices
            .iter_mut()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no simulated device {name}"))
    }

    /// The fleet file's text: `known_hosts:` and every device's [`SimDevice::fleet_entry`].
    pub fn fleet_yaml(&self) -> String {
        let mut y = format!(
            "known_hosts: {}\ndevices:\n",
            yaml_str(&self.known_hosts.display().to_string())
        );
        for d in &self.devices {
            y += &d.fleet_entry(&self.updater, &self.key, &self.known_hosts);
        }
        y
    }

    /// (Re)write `fleet_file`, e.g. after changing a device's `tags`.
    pub fn write_fleet(&self) {
        std::fs::write(&self.fleet_file, self.fleet_yaml()).expect("write fleet file");
    }

    /// Run `cmd` on device `name` with the OpenSSH client.
    pub fn ssh(&self, name: &str, cmd: &str, timeout: Duration) -> Output {
        self.device(name)
            .ssh(&self.key, &self.known_hosts, cmd, timeout)
    }
}
