//! The floor: a native hyper server answering what `/probe/static` answers,
//! configured like the host's listener (HTTP/1.1 keep-alive, `TCP_NODELAY`,
//! tokio's default multi-threaded runtime). It runs as a child process, as the
//! host does, so both share the cores with the load generator the same way.

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, header};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

/// The probe component's static body (`tests/components/probe`, path `/static`).
pub const STATIC_BODY: &str = "hello from the edge\n";

/// Serves on a free loopback port until SIGTERM, SIGINT or the end of stdin
/// (the bench holds it open, so a killed bench does not leave the floor
/// running). Prints `Serving http://<addr>` once listening, as the host does.
pub async fn serve() -> Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot listen on 127.0.0.1")?;
    println!("Serving http://{}", listener.local_addr()?);
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let (gone_tx, parent_gone) = tokio::sync::oneshot::channel::<()>();
    // A plain thread: tokio's stdin would need a feature the workspace does
    // not enable (and enabling it would rebuild tokio's dependents).
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        let _ = gone_tx.send(());
    });
    tokio::pin!(parent_gone);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let service = service_fn(|_req| async { Ok::<_, Infallible>(static_response()) });
                    let _ = http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            _ = term.recv() => return Ok(()),
            _ = &mut parent_gone => return Ok(()),
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

fn static_response() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(STATIC_BODY.as_bytes())));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain"),
    );
    response
}
