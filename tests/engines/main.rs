//! Backends and engines against real Docker, sshd, simulated devices and HTTP doubles: the
//! Docker, Swarm, Kubernetes and Mender backends, the SSH fleet, the update engine, updates over
//! SSH, the device simulator, hardening, and the ignored benchmarks (`fleet_bench`,
//! `mender_bench`). One test binary; each former test file is a module, `support` is shared.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure stops at its line"
)]
#[path = "../support/mod.rs"]
mod support;

mod device_sim;
mod docker_backend;
mod fleet_bench;
mod fleet_dropbear;
mod fleet_local;
mod fleet_ssh;
mod forward;
mod hardening;
mod kube_backend;
mod mender_backend;
mod mender_bench;
mod mender_timeline;
mod swarm_backend;
mod swarm_triage;
mod timeline;
mod update_engine;
mod update_guard;
mod update_ssh;
