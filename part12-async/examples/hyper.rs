//! The same application, served by hyper: `src/app.rs`, unchanged.
//!
//! The post runs an unchanged Flask application on its own server. This is
//! the mirror image: our application on someone else's server. hyper is the
//! HTTP library under much of Rust's web (axum, reqwest), and it speaks the
//! same `http` types, so all it takes is to collect the body and call `app`.
//!
//! ```text
//! cargo run -p part12-async --example part12-hyper
//! curl -i localhost:5000/create -d 'name=Ada'
//! ```
//!
//! hyper is asynchronous, as this stage is: one thread serves many
//! connections, switching between them whenever one waits (`.await`), and
//! our application's future is awaited like any other. It runs on the
//! stage's default runtime, tokio's multi-thread one with a thread per
//! core, so that the load benchmark compares two servers, not two runtimes.

use std::sync::Arc;

use clap::Parser;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use part12_async::application::{Application, Connection};
use tokio::net::TcpListener;

// The stage's own application, the very file `src/main.rs` serves.
#[path = "../src/app.rs"]
mod app;

/// The largest body read, as in the stage.
const MAX_BODY_BYTES: usize = common::parser::MAX_BODY_BYTES;

/// The command line: the port, as the stages take it.
#[derive(Parser)]
struct Args {
    /// The port to listen on, on 127.0.0.1; 0 lets the system pick one.
    #[arg(long, default_value_t = 5000)]
    port: u16,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
    println!("Listening on {}", listener.local_addr()?);
    // The application, as `src/main.rs` picks it.
    let app: Arc<dyn Application> = Arc::new(app::app());
    loop {
        let (stream, client) = listener.accept().await?;
        let server = stream.local_addr()?;
        let app = Arc::clone(&app);
        // One task per connection, as in this stage's own server.
        tokio::spawn(async move {
            let connection = Connection { server, client };
            let service = service_fn(move |request| answer(Arc::clone(&app), request, connection));
            // Keep-alive, hyper's default, as in this stage; and a client
            // that closes its sending side after its request still gets the
            // answer, as from this stage (hyper would drop it otherwise).
            let served = http1::Builder::new()
                .half_close(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(error) = served {
                eprintln!("connection with {client}: {error}");
            }
        });
    }
}

/// Reads the whole body, then lets `app` answer, as our server does.
async fn answer(
    app: Arc<dyn Application>,
    request: Request<Incoming>,
    connection: Connection,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(body) => body.to_bytes().to_vec(),
        Err(_) => return Ok(too_large()),
    };
    let mut request = Request::from_parts(parts, body);
    request.extensions_mut().insert(connection);
    let response = app.call(request).await;
    // hyper wants a body type of its own: the same bytes, wrapped.
    Ok(response.map(|body| Full::new(Bytes::from(body))))
}

/// `413`, for a body over the limit (or one that could not be read).
fn too_large() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(b"413: body too large\n")));
    *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
    response
}
