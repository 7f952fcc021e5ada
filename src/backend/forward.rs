//! Port forwarding over what is already connected (#15): a local port on 127.0.0.1 whose
//! connections are carried to a container, pod or device port by the source's own transport.
//!
//! A forwarder is one tokio task owning a `TcpListener`; each accepted connection asks the
//! backend's [`Connector`] for a stream to the target and copies bytes both ways. Backends only
//! say how to reach the port (`Backend::forward`): Docker connects to the published host port
//! or the container's bridge IP, Kubernetes opens a `portforward` websocket, a device opens a
//! `direct-tcpip` channel on its cached SSH session. The console owns the forwards
//! ([`Forwards`]): it lists them as `Forward` rows, closes them on `d` and on quit, and audits
//! both ends. Principle 1: opening binds at once and nothing here blocks the UI; connecting
//! happens per accepted connection, on its task.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use super::{BackendEvent, EventTx};
use crate::model::{Health, Labels, Resource, ResourceKey, ResourceKind, RowFacts, SourceId};

/// A byte stream to the forwarded port, whatever carries it.
pub trait Duplex: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Duplex for T {}

pub type Stream = Box<dyn Duplex>;

/// A connection to the target: the stream, and the target's own words when it gave up on it
/// after it was opened (a pod's port-forward error channel: nothing listens on the port).
pub struct Connected {
    pub stream: Stream,
    pub error: Option<futures::future::BoxFuture<'static, Option<String>>>,
}

impl From<Stream> for Connected {
    fn from(stream: Stream) -> Connected {
        Connected {
            stream,
            error: None,
        }
    }
}

/// How one source reaches one port of one object, once per accepted connection.
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// What the TARGET column shows: "web:80 (172.17.0.2)", "pod shop/web-1:8080".
    fn target(&self) -> String;
    async fn connect(&self) -> anyhow::Result<Connected>;
}

/// A connector to a plain TCP address (a published Docker port, a container's bridge IP, a
/// `host: local` device's port).
pub struct TcpConnector {
    pub addr: SocketAddr,
    pub target: String,
}

#[async_trait]
impl Connector for TcpConnector {
    fn target(&self) -> String {
        self.target.clone()
    }
    async fn connect(&self) -> anyhow::Result<Connected> {
        let s = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(self.addr))
            .await
            .map_err(|_| anyhow::anyhow!("connect to {}: timed out", self.addr))?
            .map_err(|e| anyhow::anyhow!("connect to {}: {e}", self.addr))?;
        Ok(Connected::from(Box::new(s) as Stream))
    }
}

/// Bound on reaching the target for one accepted connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The source id of `Forward` rows.
pub const SOURCE: &str = "forwards";

/// What a forward counts, shared with its connection tasks.
#[derive(Debug, Default)]
pub struct Counters {
    pub active: AtomicU64,
    pub total: AtomicU64,
    pub bytes: AtomicU64,
    pub last_error: Mutex<Option<String>>,
}

/// One running forward: dropping it stops the listener and every connection.
pub struct Forward {
    pub id: u64,
    pub local: SocketAddr,
    pub target: String,
    /// The object forwarded to, and its name (for the audit line).
    pub of: ResourceKey,
    pub name: String,
    pub since: jiff::Timestamp,
    pub counters: Arc<Counters>,
    /// Taken by [`Forward::close`], which waits for it to end.
    task: Option<JoinHandle<()>>,
}

impl Drop for Forward {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

impl Forward {
    /// Bind 127.0.0.1:`local` (0 = an ephemeral port) and start serving it. Only loopback:
    /// a forward must not open the target to the network this machine is on.
    pub async fn start(
        id: u64,
        local: u16,
        connector: Arc<dyn Connector>,
        of: ResourceKey,
        name: String,
    ) -> std::io::Result<Forward> {
        let listener = TcpListener::bind(("127.0.0.1", local)).await?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let target = connector.target();
        let task = tokio::spawn(serve(listener, connector, counters.clone()));
        Ok(Forward {
            id,
            local: addr,
            target,
            of,
            name,
            since: jiff::Timestamp::now(),
            counters,
            task: Some(task),
        })
    }

    /// Stop it and wait until the listener is closed, so the port is free when this returns.
    pub async fn close(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// The `:forwards` row.
    pub fn row(&self) -> Resource {
        let c = &self.counters;
        let (active, total) = (
            c.active.load(Ordering::Relaxed),
            c.total.load(Ordering::Relaxed),
        );
        let error = c
            .last_error
            .lock()
            .map(|e| e.clone().unwrap_or_default())
            .unwrap_or_default();
        let local = self.local.to_string();
        Resource {
            key: ResourceKey {
                source: SourceId::new(SOURCE),
                kind: ResourceKind::Forward,
                id: self.id.to_string(),
            },
            name: local.clone(),
            parent: None,
            health: if error.is_empty() {
                Health::Ok
            } else {
                Health::Pending
            },
            cells: vec![
                local,
                self.target.clone(),
                self.of.source.to_string(),
                format!("{active}/{total}"),
                bytes_text(c.bytes.load(Ordering::Relaxed)),
                String::new(),
                error,
            ],
            created: Some(self.since),
            labels: Labels::from([
                (
                    "object".to_string(),
                    format!("{}/{}", self.of.kind.name(), self.name),
                ),
                ("source".to_string(), self.of.source.to_string()),
            ]),
            facts: RowFacts::default(),
        }
    }
}

/// "512", "1.5K", "3.2M": the leading number sorts (ColumnKind::Number) within one unit.
fn bytes_text(n: u64) -> String {
    const K: f64 = 1024.0;
    let f = n as f64;
    if f < K {
        n.to_string()
    } else if f < K * K {
        format!("{:.1}K", f / K)
    } else if f < K * K * K {
        format!("{:.1}M", f / (K * K))
    } else {
        format!("{:.1}G", f / (K * K * K))
    }
}

/// Accept until aborted; the connection tasks live in a `JoinSet` owned here, so aborting
/// this task ends them too.
async fn serve(listener: TcpListener, connector: Arc<dyn Connector>, counters: Arc<Counters>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((sock, _)) => {
                    counters.total.fetch_add(1, Ordering::Relaxed);
                    conns.spawn(carry(sock, connector.clone(), counters.clone()));
                }
                Err(e) => {
                    // EMFILE and friends: keep serving once descriptors free up.
                    tracing::warn!("forward accept: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// One accepted connection: reach the target, then copy both ways until either side ends.
async fn carry(mut sock: TcpStream, connector: Arc<dyn Connector>, counters: Arc<Counters>) {
    counters.active.fetch_add(1, Ordering::Relaxed);
    let result = async {
        let Connected { mut stream, error } = connector.connect().await?;
        // Counted as they pass, not at the end: a long-lived connection (a web UI's
        // websocket) shows its traffic while it runs.
        let mut counted = Counted {
            inner: &mut sock,
            bytes: &counters.bytes,
        };
        tokio::io::copy_bidirectional(&mut counted, &mut stream).await?;
        // The stream ended: did the target say why? (It has, by now, if it did.)
        if let Some(error) = error
            && let Ok(Some(why)) = tokio::time::timeout(Duration::from_secs(1), error).await
        {
            anyhow::bail!("{why}");
        }
        anyhow::Ok(())
    }
    .await;
    counters.active.fetch_sub(1, Ordering::Relaxed);
    let mut last = counters
        .last_error
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    match result {
        Ok(()) => *last = None,
        Err(e) => {
            let text = crate::term::sanitize::sanitize_short(&format!("{e:#}"), 200);
            tracing::info!("forward to {}: {text}", connector.target());
            *last = Some(text);
        }
    }
}

/// The local side of a connection, counting the bytes read from and written to it.
struct Counted<'a, S> {
    inner: &'a mut S,
    bytes: &'a AtomicU64,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<'_, S> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let me = self.get_mut();
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut *me.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        me.bytes.fetch_add(n as u64, Ordering::Relaxed);
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<'_, S> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let me = self.get_mut();
        let r = std::pin::Pin::new(&mut *me.inner).poll_write(cx, buf);
        if let std::task::Poll::Ready(Ok(n)) = &r {
            me.bytes.fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut *self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut *self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Every forward this console runs, published as `Forward` rows.
#[derive(Clone)]
pub struct Forwards {
    open: Arc<tokio::sync::Mutex<BTreeMap<u64, Forward>>>,
    next: Arc<AtomicU64>,
    events: EventTx,
    /// Republishes the rows every second once a forward was opened (counters move); started
    /// then, not at construction, so a console that never forwards runs no task for it.
    ticker: Arc<std::sync::OnceLock<super::TaskHandle>>,
}

impl Forwards {
    pub fn new(events: EventTx) -> Forwards {
        Forwards {
            open: Default::default(),
            next: Arc::new(AtomicU64::new(1)),
            events,
            ticker: Default::default(),
        }
    }

    fn start_ticker(&self) {
        self.ticker.get_or_init(|| {
            let (open, events) = (self.open.clone(), self.events.clone());
            super::TaskHandle::spawn(async move {
                let mut last = Vec::new();
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let rows = rows(&*open.lock().await);
                    if rows != last {
                        last = rows.clone();
                        if publish_rows(&events, rows).await.is_err() {
                            return;
                        }
                    }
                }
            })
        });
    }

    /// Start a forward to `connector`'s port on 127.0.0.1:`local`; the text says where.
    pub async fn open(
        &self,
        local: u16,
        connector: Arc<dyn Connector>,
        of: ResourceKey,
        name: String,
    ) -> anyhow::Result<Forward> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        Forward::start(id, local, connector, of, name)
            .await
            .map_err(|e| anyhow::anyhow!("listen on 127.0.0.1:{local}: {e}"))
    }

    /// Keep a started forward (listed from now on).
    pub async fn add(&self, f: Forward) {
        self.open.lock().await.insert(f.id, f);
        self.start_ticker();
        self.publish().await;
    }

    /// Close forward `id`: the port is free when this returns.
    pub async fn close(&self, id: u64) -> anyhow::Result<String> {
        let f = self.open.lock().await.remove(&id);
        let Some(f) = f else {
            anyhow::bail!("forward {id} is already closed");
        };
        let text = format!("closed {} → {}", f.local, f.target);
        f.close().await;
        self.publish().await;
        Ok(text)
    }

    /// Take every forward out (quitting): each is closed when dropped.
    pub async fn take_all(&self) -> Vec<Forward> {
        let all = std::mem::take(&mut *self.open.lock().await);
        all.into_values().collect()
    }

    async fn publish(&self) {
        let rows = rows(&*self.open.lock().await);
        let _ = publish_rows(&self.events, rows).await;
    }
}

fn rows(open: &BTreeMap<u64, Forward>) -> Vec<Resource> {
    open.values().map(Forward::row).collect()
}

async fn publish_rows(events: &EventTx, resources: Vec<Resource>) -> Result<(), ()> {
    events
        .send(BackendEvent::Snapshot {
            source: SourceId::new(SOURCE),
            kind: ResourceKind::Forward,
            resources,
        })
        .await
        .map_err(|_| ())
}

/// Parse a forward dialog's answer, kubectl's way: `PORT` (an ephemeral local port),
/// `LOCAL:PORT`, or `:PORT`. Port 0 is not a remote port.
pub fn parse_ports(text: &str) -> Result<(u16, u16), String> {
    let bad = || "a port (80), or local:remote (8080:80)".to_string();
    let port = |s: &str| s.trim().parse::<u16>().map_err(|_| bad());
    let (local, remote) = match text.trim().split_once(':') {
        Some((l, r)) if l.trim().is_empty() => (0, port(r)?),
        Some((l, r)) => (port(l)?, port(r)?),
        None => (0, port(text)?),
    };
    if remote == 0 {
        return Err(bad());
    }
    Ok((local, remote))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_read_like_kubectl() {
        assert_eq!(parse_ports("80"), Ok((0, 80)));
        assert_eq!(parse_ports(" 8080:80 "), Ok((8080, 80)));
        assert_eq!(parse_ports(":443"), Ok((0, 443)));
        assert!(parse_ports("0").is_err());
        assert!(parse_ports("web").is_err());
        assert!(parse_ports("70000").is_err());
    }

    #[test]
    fn byte_counts_are_short() {
        assert_eq!(bytes_text(512), "512");
        assert_eq!(bytes_text(1536), "1.5K");
        assert_eq!(bytes_text(3 * 1024 * 1024), "3.0M");
    }

    /// Real traffic through a forward to a TCP echo server, then closing frees the port.
    #[tokio::test]
    async fn carries_bytes_both_ways_and_closing_frees_the_port() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let echo_addr = echo.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (mut s, _) = echo.accept().await.unwrap();
                tokio::spawn(async move {
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        let connector = Arc::new(TcpConnector {
            addr: echo_addr,
            target: echo_addr.to_string(),
        });
        let of = ResourceKey {
            source: SourceId::new("test"),
            kind: ResourceKind::Container,
            id: "c1".into(),
        };
        let f = Forward::start(1, 0, connector, of, "echo".into())
            .await
            .unwrap();
        let local = f.local;
        let mut c = TcpStream::connect(local).await.unwrap();
        c.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        c.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello");
        // Counted while the connection is still open.
        assert_eq!(f.counters.bytes.load(Ordering::Relaxed), 10);
        assert_eq!(f.row().cells[3], "1/1");
        drop(c);
        for _ in 0..50 {
            if f.counters.active.load(Ordering::Relaxed) == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let row = f.row();
        assert_eq!(row.cells[3], "0/1");
        assert_eq!(row.cells[4], "10");
        f.close().await;
        assert!(TcpStream::connect(local).await.is_err(), "port still open");
        TcpListener::bind(local).await.expect("port free again");
    }
}
