//! A real browser against one of our HTTP stages: headless Chromium loads
//! the page, and the server's log must show what a browser really does.
//!
//! curl sends one request and reads one answer. A browser does more: once the
//! page is in, it asks for `/favicon.ico` on a connection of its own, and it
//! opens a spare connection ahead of time, in case the page needs another
//! file, on which it may never send a byte. The stage must answer the first
//! two and let the third go with `408 Request Timeout` once its read timeout
//! passes (the part 5 chapter tells the story).
//!
//! Chromium is driven over its DevTools protocol: JSON messages, each ended
//! by a zero byte, on the pipe that `--remote-debugging-pipe` opens (Chromium
//! reads commands on its file descriptor 3 and answers on 4). The test opens
//! the page, reads its text and status from the browser, keeps the browser
//! open until the server has logged the favicon request, then closes it.
//!
//! Chromium comes from the system's packages; without it the test is
//! ignored, with the command that installs it, except in CI (`CI=true`),
//! where a missing browser is a failure.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use libtest_mimic::{Failed, Trial};
use serde_json::{Value, json};

use super::harness::{TEST_READ_TIMEOUT, trial_needing};
use crate::wait::poll_until;
use crate::{Kind, Server, Stage};

/// How long the browser may take to start, to load the page, and to ask
/// for the favicon; and how long the stage may take to log a connection.
const WITHIN: Duration = Duration::from_secs(20);

/// How often we ask again while we wait for the page, or for Chromium to exit.
const POLL: Duration = Duration::from_millis(50);

/// The names Chromium goes by in distributions' packages.
const CHROMIUM: &[&str] = &["chromium", "chromium-browser"];

/// How to install it, for the message of a test that cannot run.
const INSTALL: &str = "apt-get install chromium";

/// The browser test of `program`, for an HTTP stage's tests; `None` for
/// other stages. Ignored when Chromium is missing, unless in CI.
pub fn trial(program: &'static str, stage: Stage) -> Option<Trial> {
    if stage.kind != Kind::Http || !cfg!(unix) {
        return None;
    }
    let chromium = chromium();
    let missing = chromium.is_none().then(|| format!("Chromium: {INSTALL}"));
    Some(trial_needing(
        "program::page_loads_in_chromium",
        missing,
        move || page_loads_in_chromium(program, stage, &chromium.unwrap_or_default()),
    ))
}

/// The first of [`CHROMIUM`] that runs.
fn chromium() -> Option<String> {
    CHROMIUM
        .iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        })
        .map(|name| name.to_string())
}

/// Loads the stage's page in Chromium, then reads the stage's log.
fn page_loads_in_chromium(program: &str, stage: Stage, chromium: &str) -> Result<(), Failed> {
    let page_path = stage.page;
    let mut command = Command::new(program);
    // The spare connection is answered `408` after the read timeout, if the
    // browser is still open by then.
    command.args(["--port", "0", "--read-timeout"]);
    command.arg(TEST_READ_TIMEOUT.as_secs().to_string());
    let server = Server::start(command)?;
    let url = format!("http://{}{page_path}", server.addr());

    let mut browser = Browser::start(chromium)?;
    let page = browser.open(&url)?;
    if page.text != "Hello World" || page.status != 200 {
        return Err(format!(
            "the page {url} shown with the text \"Hello World\", status 200; \
             the browser shows {:?}, status {}",
            page.text, page.status
        )
        .into());
    }
    // A browser asks for the favicon once the page is in: wait for it.
    let favicon = "Received url: b'/favicon.ico'";
    if server
        .log()
        .wait_for(WITHIN, |lines| {
            lines.iter().any(|l| l == favicon).then_some(())
        })
        .is_none()
    {
        return Err(format!("a request for /favicon.ico within {} s", WITHIN.as_secs()).into());
    }
    browser.close();

    // Every connection the browser opened, as the stage logged it.
    let clients: Vec<SocketAddr> = server
        .log()
        .lines()
        .iter()
        .filter_map(|line| line.strip_prefix("Socket established with "))
        .filter_map(|addr| addr.trim_end_matches('.').parse().ok())
        .collect();
    let mut connections = Vec::new();
    for client in clients {
        let lines = server.log().connection(client, WITHIN).ok_or_else(|| {
            format!("`Socket with {client} closed.` in the log, once the browser is closed")
        })?;
        connections.push(lines);
    }
    judge(&connections, stage).map_err(|why| {
        let shown: Vec<String> = connections.iter().map(|c| c.join("\n    ")).collect();
        format!(
            "{why}; the log, a connection at a time:\n    {}",
            shown.join("\n\n    ")
        )
        .into()
    })
}

/// What the log must show, one list of lines per connection: the page and the
/// favicon each answered, and no refusal but the `408` of a connection on
/// which the browser sent nothing. A stage that keeps connections (part 9
/// on) keeps the page's: the browser reuses it for the favicon, or is the
/// one to close it (Chromium, now and then, closes it at once and asks for
/// the favicon on a new connection: its choice, which HTTP allows).
fn judge(connections: &[Vec<String>], stage: Stage) -> Result<(), String> {
    let page_path = stage.page;
    let asked = |lines: &[String], url: &str| lines.contains(&format!("Received url: b'{url}'"));
    let answered = |url: &str| {
        connections
            .iter()
            .any(|lines| asked(lines, url) && lines.iter().any(|l| l.starts_with("Response sent")))
    };
    if !answered(page_path) {
        return Err(format!(
            "the page ({page_path}) answered: `Response sent.` on its connection"
        ));
    }
    if !answered("/favicon.ico") {
        return Err("/favicon.ico answered: `Response sent.` on its connection".into());
    }
    let one_connection = connections
        .iter()
        .any(|lines| asked(lines, page_path) && asked(lines, "/favicon.ico"));
    let closed_by_the_browser = connections.iter().any(|lines| {
        asked(lines, page_path)
            && lines
                .last()
                .is_some_and(|l| l.ends_with("closed: the client closed it."))
    });
    if stage.persistent && !one_connection && !closed_by_the_browser {
        return Err(format!(
            "the page ({page_path}) and /favicon.ico on one connection, which the stage keeps, \
             or else the page's connection closed by the browser"
        ));
    }
    for lines in connections {
        let received = lines.iter().any(|l| l.starts_with("Received "));
        for line in lines.iter().filter(|l| l.starts_with("Refused: ")) {
            let spare_timed_out = !received && line == "Refused: HTTP/1.1 408 Request Timeout";
            if !spare_timed_out {
                return Err(format!(
                    "no refusal but the 408 of a connection the browser sent nothing on; \
                     found `{line}`"
                ));
            }
        }
    }
    Ok(())
}

/// What the browser showed.
struct Page {
    text: String,
    status: u64,
}

/// A headless Chromium, and the DevTools session to it.
struct Browser {
    child: Child,
    commands: ChildStdin,
    /// Chromium's messages, read by a thread of their own, so that waiting
    /// for one can have a deadline.
    messages: Receiver<Value>,
    next_id: u64,
    /// The session to the page we opened, once open.
    session: Option<String>,
    /// Chromium's profile, fresh for this browser and removed after it.
    profile: PathBuf,
}

impl Browser {
    fn start(chromium: &str) -> Result<Browser, Failed> {
        let profile =
            std::env::temp_dir().join(format!("stage-check-chromium-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        // Chromium reads commands on descriptor 3 and answers on 4. `sh`
        // moves our two pipes there (`3<&0 4>&1`) before Chromium starts,
        // and gives its standard input and output to /dev/null.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$@" 3<&0 4>&1 </dev/null >/dev/null"#)
            .arg("sh")
            .arg(chromium)
            .args([
                "--headless",
                // Root (as in CI's containers) cannot use Chromium's sandbox.
                "--no-sandbox",
                "--disable-gpu",
                // Containers often have a small /dev/shm, too small for it.
                "--disable-dev-shm-usage",
                // HTTP over TCP only, as our stages speak it.
                "--disable-quic",
                // A fresh profile, and no traffic of Chromium's own.
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("cannot start {chromium}: {error}"))?;
        let commands = child.stdin.take().ok_or("no pipe to Chromium")?;
        let output = child.stdout.take().ok_or("no pipe from Chromium")?;
        let (sender, messages) = mpsc::channel();
        thread::spawn(move || {
            for message in BufReader::new(output).split(0) {
                let Ok(message) = message else { break };
                let Ok(message) = serde_json::from_slice(&message) else {
                    continue;
                };
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        Ok(Browser {
            child,
            commands,
            messages,
            next_id: 0,
            session: None,
            profile,
        })
    }

    /// Sends one DevTools command and waits for its result.
    fn call(&mut self, method: &str, params: Value) -> Result<Value, Failed> {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = &self.session {
            command["sessionId"] = json!(session);
        }
        let mut bytes = command.to_string().into_bytes();
        bytes.push(0);
        self.commands
            .write_all(&bytes)
            .map_err(|error| format!("Chromium went away: {error}"))?;
        let deadline = Instant::now() + WITHIN;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            // Events (messages without our id) are passed over.
            let message = self.messages.recv_timeout(left).map_err(|_| {
                format!(
                    "Chromium's answer to {method} within {} s",
                    WITHIN.as_secs()
                )
            })?;
            if message["id"] != id {
                continue;
            }
            if let Some(error) = message.get("error") {
                return Err(format!("Chromium refused {method}: {error}").into());
            }
            return Ok(message["result"].clone());
        }
    }

    /// Opens `url` in a new tab and waits until it has loaded.
    fn open(&mut self, url: &str) -> Result<Page, Failed> {
        let target = self.call("Target.createTarget", json!({ "url": url }))?;
        let attached = self.call(
            "Target.attachToTarget",
            json!({ "targetId": target["targetId"], "flatten": true }),
        )?;
        self.session = attached["sessionId"].as_str().map(String::from);
        // The page's text and the status of its answer, once it is loaded
        // (until then, the tab may still show the blank page it starts on).
        let expression = format!(
            "document.URL == {} && document.readyState == 'complete' ? {{ \
             text: document.body.innerText, \
             status: performance.getEntriesByType('navigation')[0].responseStatus }} : null",
            json!(url)
        );
        let loaded = poll_until(WITHIN, POLL, || {
            let result = match self.call(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true }),
            ) {
                Ok(result) => result,
                Err(failed) => return Some(Err(failed)),
            };
            let value = &result["result"]["value"];
            let (text, status) = (value["text"].as_str()?, value["status"].as_u64()?);
            Some(Ok(Page {
                text: text.to_string(),
                status,
            }))
        });
        loaded.unwrap_or_else(|| Err(format!("{url} loaded within {} s", WITHIN.as_secs()).into()))
    }

    /// Closes the browser, which closes its connections.
    fn close(&mut self) {
        self.session = None;
        let _ = self.call("Browser.close", json!({}));
        poll_until(WITHIN, POLL, || self.child.try_wait().ok().flatten());
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // After `close`, nothing is left to stop; after a failure, this ends
        // the browser (its helper processes leave when it is gone).
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::trim).map(String::from).collect()
    }

    #[test]
    fn a_browsers_visit_is_judged_by_the_log() {
        let part5 = Stage::from_name("part5").expect("part 5");
        let page = lines(
            "Socket established with 127.0.0.1:1.
             Received b'GET / HTTP/1.1...'
             Received url: b'/'
             Response sent.
             Socket with 127.0.0.1:1 closed.",
        );
        let favicon = lines(
            "Socket established with 127.0.0.1:2.
             Received url: b'/favicon.ico'
             Response sent.
             Socket with 127.0.0.1:2 closed.",
        );
        let spare = lines(
            "Socket established with 127.0.0.1:3.
             Refused: HTTP/1.1 408 Request Timeout
             Socket with 127.0.0.1:3 closed.",
        );
        let refused = lines(
            "Socket established with 127.0.0.1:4.
             Received url: b'/favicon.ico'
             Refused: HTTP/1.1 400 Bad Request
             Socket with 127.0.0.1:4 closed.",
        );
        let all = [page.clone(), favicon.clone(), spare.clone()];
        assert_eq!(judge(&all, part5), Ok(()));
        assert!(
            judge(&[page.clone(), spare.clone()], part5)
                .unwrap_err()
                .contains("favicon")
        );
        assert!(
            judge(&[favicon.clone(), all[2].clone()], part5)
                .unwrap_err()
                .contains("page")
        );
        assert!(
            judge(&[page, favicon, refused], part5)
                .unwrap_err()
                .contains("400")
        );
    }

    #[test]
    fn a_stage_that_keeps_connections_serves_the_favicon_on_the_pages() {
        let part9 = Stage::from_name("part9").expect("part 9");
        let kept = lines(
            "Socket established with 127.0.0.1:1.
             Received url: b'/index.html'
             Response sent (request 1 of this connection).
             Received url: b'/favicon.ico'
             Response sent (request 2 of this connection).
             Socket with 127.0.0.1:1 closed: the client closed it.",
        );
        assert_eq!(judge(std::slice::from_ref(&kept), part9), Ok(()));
        // The same two requests on two connections: each answer closed one.
        let (page, favicon) = kept.split_at(3);
        let closed = |reason: &str| format!("Socket with 127.0.0.1:1 closed: {reason}.");
        let mut page = page.to_vec();
        page.push(closed("the client asked to close"));
        let apart = [page.clone(), favicon.to_vec()];
        assert!(judge(&apart, part9).unwrap_err().contains("one connection"));
        // The browser closed the page's connection, kept by the server, and
        // asked for the favicon on another: its choice.
        page.pop();
        page.push(closed("the client closed it"));
        assert_eq!(judge(&[page, favicon.to_vec()], part9), Ok(()));
    }
}
