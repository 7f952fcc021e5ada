//! Mender figures (ignored by default; measure a release build):
//!
//!   cargo test --release --test engines mender_bench:: -- --ignored --nocapture --test-threads 1
//!
//! 2,000 devices and 1,500 deployments (1,480 finished, 20 in progress) served by the test
//! double (tests/support/mender_server.rs). The double runs on its own runtime thread; the
//! console side — backend task, hyper client, JSON, mapping, the reducer and a 160x48 frame per
//! update, as the console does — runs on this test's thread, so its CPU is read alone with
//! CLOCK_THREAD_CPUTIME_ID. The first run of each view is checked against the OpenAPI
//! documents; the timed runs skip those checks (they cost the double, not the console).
//!
//! Printed per view: every row listed, time from the first page leaving the server to the first
//! frame showing rows, time to the complete list, and per steady refresh: requests, bytes and
//! console CPU. For comparison, the cost of re-reading the whole deployments history every
//! refresh (what the console did before, with working pagination).

use crate::support::mender_server;

use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use fleetdeck::app::action::Action;
use fleetdeck::app::{AppState, Msg, update};
use fleetdeck::backend::mender::paging::Pager;
use fleetdeck::backend::mender::{DEPLOYMENTS, MenderBackend, client::Token, map};
use fleetdeck::backend::{Backend, BackendEvent};
use fleetdeck::config::{MenderSource, Settings};
use fleetdeck::model::ResourceKind;
use mender_server::{DEPLOYMENTS_V2, DEVAUTH, Data, MenderServer};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

const TOKEN: &str = "pat-bench";
const DEVICES: usize = 2000;
const FINISHED: usize = 1480;
const ACTIVE: usize = 20;
const RUNS: usize = 7;
const REFRESHES: usize = 20;
/// Short, so that the steady-state window does not take minutes; CPU per refresh does not
/// depend on it.
const BENCH_POLL: Duration = Duration::from_millis(100);

fn thread_cpu() -> Duration {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Console {
    st: AppState,
    term: Terminal<TestBackend>,
}

impl Console {
    fn new(view: &str) -> Console {
        let mut st = AppState::new(Settings::default(), false);
        update(&mut st, Msg::Action(Action::Command));
        for c in view.chars() {
            update(
                &mut st,
                Msg::Term(Event::Key(KeyEvent::new(
                    KeyCode::Char(c),
                    KeyModifiers::NONE,
                ))),
            );
        }
        update(
            &mut st,
            Msg::Term(Event::Key(KeyEvent::new(
                KeyCode::Enter,
                KeyModifiers::NONE,
            ))),
        );
        Console {
            st,
            term: Terminal::new(TestBackend::new(160, 48)).unwrap(),
        }
    }

    /// The reducer, then a frame: what the console does with each backend event.
    fn apply(&mut self, ev: BackendEvent) {
        update(&mut self.st, Msg::Backend(ev));
        let st = &mut self.st;
        self.term.draw(|f| fleetdeck::ui::render(f, st)).unwrap();
    }

    fn rows(&self) -> usize {
        match self.st.top() {
            fleetdeck::app::state::View::Table(t) => t.rows.len(),
            _ => 0,
        }
    }
}

struct Bench {
    server: MenderServer,
    // Dropped after the server.
    _server_rt: tokio::runtime::Runtime,
    rt: tokio::runtime::Runtime,
}

impl Bench {
    fn new() -> Bench {
        let server_rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = server_rt.block_on(MenderServer::start(TOKEN));
        let (devices, inventory) = mender_server::synth_devices(DEVICES);
        let deployments = mender_server::synth_deployments(FINISHED, ACTIVE);
        server.set_data(Data {
            devices,
            inventory,
            deployments,
            ..Default::default()
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Bench {
            server,
            _server_rt: server_rt,
            rt,
        }
    }

    fn backend(&self) -> MenderBackend {
        let src = MenderSource {
            name: "bench".into(),
            url: self.server.url(),
            token_env: "MENDER_BENCH_TOKEN".into(),
        };
        MenderBackend::new(&src, Some(Token::new(TOKEN))).with_poll(BENCH_POLL)
    }
}

struct FirstLoad {
    rows: usize,
    /// First page handed to hyper by the server -> first frame with rows drawn.
    first_screen: Duration,
    first_rows: usize,
    /// watch() -> complete list on screen.
    complete: Duration,
    requests: usize,
}

struct Steady {
    requests: f64,
    bytes: f64,
    cpu: Duration,
    /// Of `cpu`: the reducer and the frame.
    ui_cpu: Duration,
    rows: usize,
}

async fn recv(rx: &mut mpsc::Receiver<BackendEvent>) -> BackendEvent {
    tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .expect("an event within 60s")
        .expect("channel open")
}

/// One first load of `kind`, then `refreshes` steady refreshes.
fn run(
    bench: &Bench,
    kind: ResourceKind,
    view: &str,
    first_path: &str,
    refreshes: usize,
) -> (FirstLoad, Option<Steady>) {
    let b = bench.backend();
    let mut console = Console::new(view);
    bench.server.clear_requests();
    bench.rt.block_on(async {
        let (tx, mut rx) = mpsc::channel(64);
        let t0 = Instant::now();
        let _h = b.watch(kind, tx);
        let mut first: Option<(Instant, usize)> = None;
        let complete;
        loop {
            let ev = recv(&mut rx).await;
            let is_snapshot = matches!(ev, BackendEvent::Snapshot { .. });
            let has_rows = matches!(&ev, BackendEvent::Incomplete { resources: Some(r), .. } if !r.is_empty())
                || is_snapshot;
            console.apply(ev);
            if has_rows && first.is_none() {
                first = Some((Instant::now(), console.rows()));
            }
            if is_snapshot {
                complete = t0.elapsed();
                break;
            }
        }
        let reqs = bench.server.requests();
        let page1 = reqs
            .iter()
            .find(|r| r.path == first_path)
            .expect("the first list request");
        let (first_at, first_rows) = first.unwrap();
        let load = FirstLoad {
            rows: console.rows(),
            first_screen: first_at.duration_since(page1.served),
            first_rows,
            complete,
            requests: reqs.len(),
        };
        if refreshes == 0 {
            return (load, None);
        }
        bench.server.clear_requests();
        let cpu0 = thread_cpu();
        let mut ui_cpu = Duration::ZERO;
        let mut n = 0;
        while n < refreshes {
            let ev = recv(&mut rx).await;
            let done = matches!(ev, BackendEvent::Snapshot { .. });
            let u0 = thread_cpu();
            console.apply(ev);
            ui_cpu += thread_cpu() - u0;
            n += done as usize;
        }
        let cpu = thread_cpu() - cpu0;
        let reqs = bench.server.requests();
        let steady = Steady {
            requests: reqs.len() as f64 / refreshes as f64,
            bytes: reqs.iter().map(|r| r.bytes).sum::<usize>() as f64 / refreshes as f64,
            cpu: cpu / refreshes as u32,
            ui_cpu: ui_cpu / refreshes as u32,
            rows: console.rows(),
        };
        (load, Some(steady))
    })
}

fn report(bench: &Bench, kind: ResourceKind, view: &str, first_path: &str, want: usize) {
    // A validated run first: the exchanges follow the upstream contract.
    bench.server.set_validation(true);
    let (load, _) = run(bench, kind, view, first_path, 2);
    assert_eq!(load.rows, want, "{view}: every row listed");
    assert!(bench.server.take_violations().is_empty());
    bench.server.set_validation(false);

    let mut first_screen = Vec::new();
    let mut complete = Vec::new();
    let mut cpu = Vec::new();
    let mut ui_cpu = Vec::new();
    let mut steady_last = None;
    let mut load_last = None;
    for _ in 0..RUNS {
        let (load, steady) = run(bench, kind, view, first_path, REFRESHES);
        let steady = steady.unwrap();
        assert_eq!(load.rows, want, "{view}: every row listed");
        assert_eq!(
            steady.rows, want,
            "{view}: every row listed after refreshes"
        );
        first_screen.push(ms(load.first_screen));
        complete.push(ms(load.complete));
        cpu.push(ms(steady.cpu));
        ui_cpu.push(ms(steady.ui_cpu));
        steady_last = Some(steady);
        load_last = Some(load);
    }
    let (steady, load) = (steady_last.unwrap(), load_last.unwrap());
    let fmt = |v: &Vec<f64>| {
        let mut s = v.clone();
        s.sort_by(|a, b| a.total_cmp(b));
        s.iter()
            .map(|x| format!("{x:.1}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("== :{view} ({want} rows, {RUNS} runs)");
    println!(
        "first frame with rows after the first page left the server: median {:.1} ms ({}), {} rows",
        median(first_screen.clone()),
        fmt(&first_screen),
        load.first_rows
    );
    println!(
        "complete list on screen after watch(): median {:.1} ms ({}), {} requests",
        median(complete.clone()),
        fmt(&complete),
        load.requests
    );
    println!(
        "steady refresh: {:.2} requests, {:.0} bytes, console CPU median {:.2} ms ({}), of which reducer + frame {:.2} ms",
        steady.requests,
        steady.bytes,
        median(cpu.clone()),
        fmt(&cpu),
        median(ui_cpu)
    );
}

#[test]
#[ignore]
fn bench_mender_views() {
    let bench = Bench::new();
    report(
        &bench,
        ResourceKind::MenderDevice,
        "mdevices",
        DEVAUTH,
        DEVICES,
    );
    report(
        &bench,
        ResourceKind::MenderDeployment,
        "mdeployments",
        DEPLOYMENTS_V2,
        FINISHED + ACTIVE,
    );

    // The previous design for comparison: the whole v1 history every refresh (3 pages of 500),
    // mapped and handed to the reducer, with pagination that works.
    let b = bench.backend();
    let inner = b.inner().clone();
    let mut cpu = Vec::new();
    let mut bytes = 0;
    for _ in 0..RUNS {
        let mut console = Console::new("mdeployments");
        bench.server.clear_requests();
        let c0 = thread_cpu();
        let rows = bench.rt.block_on(async {
            let mut pager = Pager::new(&inner.api, DEPLOYMENTS);
            let mut items = Vec::new();
            while let Some(page) = pager.next_page().await.expect("v1 list") {
                items.extend(page);
            }
            items
                .iter()
                .map(|d| map::deployment_row(&inner.id, d, d.get("statistics")))
                .collect::<Vec<_>>()
        });
        console.apply(BackendEvent::Snapshot {
            source: inner.id.clone(),
            kind: ResourceKind::MenderDeployment,
            resources: rows,
        });
        cpu.push(ms(thread_cpu() - c0));
        assert_eq!(console.rows(), FINISHED + ACTIVE);
        bytes = bench
            .server
            .requests()
            .iter()
            .map(|r| r.bytes)
            .sum::<usize>();
    }
    println!(
        "== before: whole v1 history per refresh: {} requests, {bytes} bytes, console CPU median {:.2} ms",
        bench.server.requests().len(),
        median(cpu)
    );
}
