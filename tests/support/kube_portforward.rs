//! The pod `portforward` subresource for the Kubernetes test double (kube_server.rs), over a
//! websocket as the API server serves it to kube-client.
//!
//! The protocol, as kube-client reads it (kube-rs/kube, kube-client/src/api/portforward.rs:
//! `start_message_loop`, `forwarder_loop`; read in the 5.0.0 crate Cargo.lock builds and the
//! same in the repository at 02766e9) and the
//! kubelet's websocket port-forward handler serves it (subprotocol `v4.channel.k8s.io`):
//! - one GET `.../pods/NAME/portforward?ports=P1,P2` upgraded to a websocket;
//! - port i has two channels: data `2i` and error `2i+1`; every binary frame starts with its
//!   channel byte;
//! - the server's first frame on each of the two channels is the port, two bytes little-endian
//!   (exactly 3 bytes with the channel; anything else is `InvalidInitialFrameSize`);
//! - after that, data frames carry bytes both ways on `2i`; a text on `2i+1` is the port's one
//!   error (it is unusable after it);
//! - the server closes the websocket when the forwards end; the client's Close ends them.
//!
//! Here "the pod's port" is a TCP address the test chose (a server on 127.0.0.1); a port with
//! none answers on its error channel as the kubelet does when nothing listens.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

type Body = BoxBody<Bytes, Infallible>;

/// Serve one portforward request: `ports` with where each one's bytes go (None: nothing
/// listens there).
pub fn serve(
    key: Option<Vec<u8>>,
    on_upgrade: Option<hyper::upgrade::OnUpgrade>,
    pod: String,
    ports: Vec<(u16, Option<SocketAddr>)>,
) -> Response<Body> {
    let (Some(key), Some(on_upgrade)) = (key, on_upgrade) else {
        return Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .body(Full::new(Bytes::from_static(b"upgrade request required")).boxed())
            .unwrap();
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(&key);
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            Role::Server,
            None,
        )
        .await;
        session(ws, pod, ports).await;
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-accept", accept)
        .header("sec-websocket-protocol", "v4.channel.k8s.io")
        .body(Full::new(Bytes::new()).boxed())
        .unwrap()
}

fn frame(ch: u8, data: &[u8]) -> Message {
    Message::binary([&[ch][..], data].concat())
}

async fn session<S>(
    ws: tokio_tungstenite::WebSocketStream<S>,
    pod: String,
    ports: Vec<(u16, Option<SocketAddr>)>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Option<Message>>();
    let mut writers = Vec::new();
    let mut live = 0usize;
    for (i, (port, target)) in ports.iter().enumerate() {
        let (data, error) = (2 * i as u8, 2 * i as u8 + 1);
        let _ = tx.send(Some(frame(data, &port.to_le_bytes())));
        let _ = tx.send(Some(frame(error, &port.to_le_bytes())));
        let conn = match target {
            Some(addr) => TcpStream::connect(addr).await.ok(),
            None => None,
        };
        let Some(conn) = conn else {
            let text = format!(
                "error forwarding port {port} to pod {pod}, uid : failed to connect to localhost:{port} inside namespace: connection refused"
            );
            let _ = tx.send(Some(frame(error, text.as_bytes())));
            writers.push(None);
            continue;
        };
        let (mut r, w) = conn.into_split();
        writers.push(Some(w));
        live += 1;
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match r.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send(Some(frame(data, &buf[..n]))).is_err() {
                            return;
                        }
                    }
                }
            }
            // This port's forward ended: the session closes when every port's has.
            let _ = tx.send(None);
        });
    }
    if live == 0 {
        let _ = tx.send(None);
        live = 1;
    }
    let writer = tokio::spawn(async move {
        let mut ended = 0;
        while let Some(m) = rx.recv().await {
            match m {
                Some(m) => {
                    if sink.send(m).await.is_err() {
                        return;
                    }
                }
                None => {
                    ended += 1;
                    if ended == live {
                        let _ = sink.send(Message::Close(None)).await;
                        return;
                    }
                }
            }
        }
    });
    while let Some(Ok(msg)) = stream.next().await {
        let data = match msg {
            Message::Binary(d) => d,
            Message::Close(_) => break,
            _ => continue,
        };
        let Some((&ch, payload)) = data.split_first() else {
            continue;
        };
        if ch % 2 == 0
            && let Some(Some(w)) = writers.get_mut(usize::from(ch / 2))
            && w.write_all(payload).await.is_err()
        {
            break;
        }
    }
    for w in writers.iter_mut().flatten() {
        let _ = w.shutdown().await;
    }
    let _ = writer.await;
}
