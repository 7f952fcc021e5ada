//! Port forwards (#15) in the real binary, in tmux, against the real Docker Engine: `F` on a
//! container, `:forwards` lists it, an HTTP client through the local port gets the
//! container's reply, `d` (confirmed) closes it and frees the port, both ends audited.

use crate::support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use support::tmux::{Tmux, fleetdeck_bin, shell_quote, tmux_available};
use support::{TestContainer, docker_test_image, require};

const T: Duration = Duration::from_secs(15);

fn get(port: u16) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// The console in tmux, filtered to `c`, with port 8080 of `c` forwarded through `F` to a
/// local port that was free a moment before (the dialog's LOCAL:PORT form); that port.
fn console_forwarding_port_8080_of(c: &TestContainer) -> (Tmux, u16) {
    let local = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t = Tmux::start(&shell_quote(fleetdeck_bin()), 140, 35, &[]);
    t.wait_for(&c.name, T);
    t.keys(&["/"]);
    t.type_text(&c.name);
    t.keys(&["Enter"]);
    t.wait_for(&format!("/{}", c.name), T);
    t.keys(&["F"]);
    t.wait_for("Port forward", T);
    t.keys(&["C-u"]);
    t.type_text(&format!("{local}:8080"));
    t.keys(&["Enter"]);
    t.wait_for(&format!("forwarding 127.0.0.1:{local}"), T);
    (t, local)
}

#[test]
fn forward_a_container_port_list_it_use_it_and_close_it() {
    if !require("tmux", tmux_available()) || docker_test_image().is_none() {
        return;
    }
    let c = TestContainer::spec("e2e-fwd")
        .cmd(&[
            "sh",
            "-c",
            "mkdir -p /www && echo hello-through-forward > /www/index.html && exec httpd -f -p 8080 -h /www",
        ])
        .run();
    let (t, local) = console_forwarding_port_8080_of(&c);

    t.keys(&[":"]);
    t.type_text("forwards");
    t.keys(&["Enter"]);
    let screen = t.wait_for("CONNECTIONS", T);
    assert!(screen.contains(&format!("127.0.0.1:{local}")), "{screen}");
    assert!(screen.contains(&format!("{}:8080", c.name)), "{screen}");

    // The container's internal port, reached through the local bridge; httpd may still start.
    let mut reply = String::new();
    for _ in 0..50 {
        reply = get(local).unwrap_or_default();
        if reply.contains("hello-through-forward") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(reply.contains("hello-through-forward"), "{reply:?}");
    // The view's counters follow (republished every second).
    t.wait_until("a finished connection counted", T, |s| {
        s.lines()
            .any(|l| l.contains(&format!("127.0.0.1:{local}")) && !l.contains(" 0/0"))
    });

    t.keys(&["d"]);
    t.wait_for(&format!("Close forward 127.0.0.1:{local}?"), T);
    t.keys(&["y"]);
    t.wait_for(&format!("closed 127.0.0.1:{local}"), T);
    t.wait_for("no forwards", T);
    assert!(
        TcpStream::connect(("127.0.0.1", local)).is_err(),
        "the port is closed"
    );
    TcpListener::bind(("127.0.0.1", local)).expect("and free again");

    let audit = std::fs::read_to_string(t.state_dir().join("audit.jsonl")).unwrap();
    assert!(audit.contains("forward port 8080 to local port"), "{audit}");
    assert!(audit.contains("close forward"), "{audit}");
    assert_eq!(audit.matches("\"phase\":\"result\"").count(), 2, "{audit}");
    t.keys(&["q"]);
    t.wait_for("EXITED:0", T);
}

#[test]
fn quitting_closes_open_forwards() {
    if !require("tmux", tmux_available()) || docker_test_image().is_none() {
        return;
    }
    let c = TestContainer::spec("e2e-fwd-quit")
        .cmd(&[
            "sh",
            "-c",
            "mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 8080 -h /www",
        ])
        .run();
    let (t, local) = console_forwarding_port_8080_of(&c);
    assert!(TcpStream::connect(("127.0.0.1", local)).is_ok());
    t.keys(&["q"]);
    t.wait_for("EXITED:0", T);
    TcpListener::bind(("127.0.0.1", local)).expect("the port is free after quit");
    let audit = std::fs::read_to_string(t.state_dir().join("audit.jsonl")).unwrap();
    assert!(audit.contains("(quit)"), "{audit}");
}
