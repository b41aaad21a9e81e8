//! A local stand-in for the hosted APIs, for tests and benchmarks. It serves OpenAI
//! `POST /v1/chat/completions` and Anthropic `POST /v1/messages` on 127.0.0.1, answers each
//! request body deterministically after a set latency, injects faults into the first attempts
//! of chosen requests, and counts what it saw: attempts per request body, answers delivered,
//! and the most requests it was handling at once.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A failure the server can serve instead of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// 429 with `Retry-After` in seconds.
    RateLimited { retry_after_s: u64 },
    /// 429 with `retry-after-ms`.
    RateLimitedMs { retry_after_ms: u64 },
    /// 500 with an OpenAI-style error body.
    ServerError,
    /// 529 `overloaded_error` (Anthropic).
    Overloaded,
    /// Answers only after this long (longer than the client's timeout).
    Slow(Duration),
    /// A 200 whose JSON body is cut in half.
    TruncatedJson,
    /// Reads the request, then closes the connection without a word.
    DropConnection,
}

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Fault::RateLimited { .. } => "429 retry-after",
            Fault::RateLimitedMs { .. } => "429 retry-after-ms",
            Fault::ServerError => "500",
            Fault::Overloaded => "529",
            Fault::Slow(_) => "slow",
            Fault::TruncatedJson => "truncated json",
            Fault::DropConnection => "dropped connection",
        }
    }
}

pub type Responder = Arc<dyn Fn(&Value) -> String + Send + Sync>;

#[derive(Clone)]
pub struct MockOptions {
    /// Time to answer each request.
    pub latency: Duration,
    /// Served in order to the first attempts of each faulted request; later attempts succeed.
    pub faults: Vec<Fault>,
    /// Which requests are faulted: those whose body hash is divisible by this (1: all; 0: none).
    pub fault_every: u64,
    /// When set, requests must carry this key (`Authorization: Bearer` or `x-api-key`);
    /// otherwise 401, with the key that was sent echoed in the error, as some servers do.
    pub api_key: Option<String>,
    /// Echo the caller's credentials in 500 bodies too (to test that clients scrub them).
    pub echo_credentials: bool,
    /// The answer text for a request body; by default a digest of the body and "yes" or "no".
    pub responder: Option<Responder>,
}

impl Default for MockOptions {
    fn default() -> Self {
        MockOptions {
            latency: Duration::ZERO,
            faults: Vec::new(),
            fault_every: 0,
            api_key: None,
            echo_credentials: false,
            responder: None,
        }
    }
}

/// What the server has seen so far.
#[derive(Debug, Clone, Default)]
pub struct MockStats {
    /// Every request read, faulted or not.
    pub requests: usize,
    /// Answers delivered (status 200 with a whole body), per request-body digest.
    pub answered: HashMap<String, usize>,
    /// Attempts per request-body digest.
    pub attempts: HashMap<String, usize>,
    pub faults_served: HashMap<&'static str, usize>,
    pub max_in_flight: usize,
    /// Credentials as received, for tests that check what was sent.
    pub credentials_seen: Vec<String>,
    pub anthropic_versions_seen: Vec<String>,
    /// Requests per `model` field of the body.
    pub models_seen: HashMap<String, usize>,
    /// Together: files uploaded (name, content) and fine-tuning job bodies, in order.
    pub uploads: Vec<(String, String)>,
    pub jobs_created: Vec<Value>,
}

/// A Together fine-tuning job the mock runs: it moves one status further on every poll.
#[derive(Debug, Clone)]
struct MockJob {
    id: String,
    training_file: String,
    model: String,
    suffix: String,
    polls: usize,
    cancelled: bool,
}

impl MockJob {
    const STATUSES: [&'static str; 5] = ["pending", "queued", "running", "uploading", "completed"];

    fn status(&self) -> &'static str {
        if self.cancelled {
            "cancelled"
        } else {
            Self::STATUSES[self.polls.min(Self::STATUSES.len() - 1)]
        }
    }

    fn json(&self) -> Value {
        let mut v = json!({"id": self.id, "object": "finetune", "model": self.model,
                           "training_file": self.training_file, "status": self.status()});
        if self.status() == "completed" {
            v["output_name"] = json!(format!(
                "mock-account/{}:{}:{}",
                self.model, self.suffix, self.id
            ));
        }
        v
    }
}

impl MockStats {
    /// Bodies answered more than once: calls a client paid for twice.
    pub fn repeated_answers(&self) -> usize {
        self.answered.values().filter(|&&n| n > 1).count()
    }
}

#[derive(Default)]
struct State {
    stats: MockStats,
    jobs: Vec<MockJob>,
    in_flight: usize,
    /// While set, requests wait before being answered.
    held: bool,
}

pub struct MockServer {
    port: u16,
    state: Arc<(Mutex<State>, Condvar)>,
    stop: Arc<AtomicBool>,
}

fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The default answer: the body's digest and a verdict word derived from it.
fn default_answer(body: &Value) -> String {
    let d = digest(&body["messages"].to_string());
    let verdict = if u8::from_str_radix(&d[..2], 16)
        .unwrap_or(0)
        .is_multiple_of(2)
    {
        "yes"
    } else {
        "no"
    };
    format!("Mock answer {d}: {verdict}")
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
    close: bool,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let method = line.split_whitespace().next()?.to_owned();
    let path = line.split_whitespace().nth(1)?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    let close = header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
    Some(Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        close,
    })
}

fn respond(stream: &mut TcpStream, status: u16, extra: &[(&str, String)], body: &str) -> bool {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        529 => "Overloaded",
        _ => "Status",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    // One write: a header and a body in separate segments would wait on delayed ACKs.
    head.push_str(body);
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.flush())
        .is_ok()
}

/// The multipart field `name` of a form body: (file name, content) for a file part, else
/// ("", value).
fn form_field(body: &str, name: &str) -> Option<(String, String)> {
    let marker = format!("name=\"{name}\"");
    let at = body.find(&marker)? + marker.len();
    let rest = &body[at..];
    let filename = rest
        .split("\r\n")
        .next()
        .and_then(|l| l.split("filename=\"").nth(1))
        .and_then(|f| f.split('"').next())
        .unwrap_or("")
        .to_owned();
    let start = rest.find("\r\n\r\n")? + 4;
    let end = rest[start..].find("\r\n--")?;
    Some((filename, rest[start..start + end].to_owned()))
}

/// Together's fine-tuning routes: upload, create, status, events, cancel.
fn together_answer(
    request: &Request,
    body: &Value,
    state: &(Mutex<State>, Condvar),
) -> Result<String, (u16, String)> {
    let mut s = state.0.lock().expect("mock lock");
    let path = request.path.as_str();
    if path == "/v1/files/upload" {
        let (filename, content) =
            form_field(&request.body, "file").ok_or((400, "no file part".into()))?;
        let purpose = form_field(&request.body, "purpose").map(|(_, v)| v);
        if purpose.as_deref() != Some("fine-tune") {
            return Err((400, format!("purpose must be fine-tune, not {purpose:?}")));
        }
        let id = format!("file-{}", s.stats.uploads.len() + 1);
        let bytes = content.len();
        s.stats.uploads.push((filename.clone(), content));
        return Ok(
            json!({"id": id, "object": "file", "filename": filename, "bytes": bytes,
                         "purpose": "fine-tune"})
            .to_string(),
        );
    }
    if path == "/v1/fine-tunes" && request.method == "GET" {
        let jobs: Vec<Value> = s.jobs.iter().map(MockJob::json).collect();
        return Ok(json!({"data": jobs}).to_string());
    }
    if path == "/v1/fine-tunes" {
        let file = body["training_file"].as_str().unwrap_or("");
        let known = file
            .strip_prefix("file-")
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n >= 1 && n <= s.stats.uploads.len());
        if !known {
            return Err((400, format!("unknown training_file '{file}'")));
        }
        let job = MockJob {
            id: format!("ft-{}", s.jobs.len() + 1),
            training_file: file.to_owned(),
            model: body["model"].as_str().unwrap_or("").to_owned(),
            suffix: body["suffix"].as_str().unwrap_or("neglect").to_owned(),
            polls: 0,
            cancelled: false,
        };
        s.stats.jobs_created.push(body.clone());
        let answer = job.json().to_string();
        s.jobs.push(job);
        return Ok(answer);
    }
    let rest = path.trim_start_matches("/v1/fine-tunes/");
    let (id, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let job = s
        .jobs
        .iter_mut()
        .find(|j| j.id == id)
        .ok_or((404, format!("no job {id}")))?;
    match tail {
        "" => {
            job.polls += 1;
            Ok(job.json().to_string())
        }
        "events" => {
            let reached = if job.cancelled {
                MockJob::STATUSES.len()
            } else {
                (job.polls + 1).min(MockJob::STATUSES.len())
            };
            let events: Vec<Value> = MockJob::STATUSES[..reached]
                .iter()
                .enumerate()
                .map(|(i, st)| {
                    json!({"object": "fine-tune-event", "created_at": format!("t{i}"),
                                      "type": st, "message": format!("job {st}")})
                })
                .collect();
            Ok(json!({"data": events}).to_string())
        }
        "cancel" => {
            job.cancelled = true;
            Ok(job.json().to_string())
        }
        other => Err((404, format!("no route {other}"))),
    }
}

/// Characters in the request's message contents (the mock's token counts derive from it).
fn prompt_chars(request: &Value) -> usize {
    request["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|x| x["content"].as_str().map_or(0, str::len))
                .sum()
        })
        .unwrap_or(0)
}

/// vLLM-style `prompt_logprobs` for a request that asks for them: each message's content in
/// 3-character tokens, each with a log-probability derived from the model and the token (so two
/// models score the same text differently), the first token's entry null as in vLLM.
fn mock_prompt_logprobs(request: &Value) -> Value {
    let model = request["model"].as_str().unwrap_or("");
    // Each message tokenised on its own, as a chat template's separators would make it.
    let tokens: Vec<String> = request["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["content"].as_str())
        .flat_map(|c| {
            let chars: Vec<char> = c.chars().collect();
            chars
                .chunks(3)
                .map(|t| t.iter().collect())
                .collect::<Vec<String>>()
        })
        .collect();
    let mut entries = vec![Value::Null];
    for (i, token) in tokens.into_iter().enumerate().skip(1) {
        let d = digest(&format!("{model}\u{0}{token}"));
        let logprob = -0.1 - f64::from(u8::from_str_radix(&d[..2], 16).unwrap_or(0)) / 50.0;
        entries.push(
            json!({ i.to_string(): {"logprob": logprob, "rank": 1, "decoded_token": token} }),
        );
    }
    Value::Array(entries)
}

/// OpenAI-style `logprobs.content` for a generated text: words and single other characters as
/// tokens, each word with a log-probability derived from the model and the token (punctuation
/// -0.001), and as
/// alternatives the token itself, its yes/no opposite (1.5 nats less likely) and " the".
fn mock_token_logprobs(model: &str, text: &str, top: usize) -> Value {
    let mut tokens: Vec<String> = Vec::new();
    for c in text.chars() {
        match tokens.last_mut() {
            Some(last) if c.is_alphanumeric() && last.chars().all(char::is_alphanumeric) => {
                last.push(c)
            }
            _ => tokens.push(c.to_string()),
        }
    }
    let content: Vec<Value> = tokens
        .iter()
        .map(|token| {
            let d = digest(&format!("{model}\u{0}{token}"));
            // Punctuation is all but certain, as in a real model's JSON.
            let logprob = if token.chars().any(char::is_alphanumeric) {
                -0.05 - f64::from(u8::from_str_radix(&d[..2], 16).unwrap_or(0)) / 100.0
            } else {
                -0.001
            };
            let mut alternatives = vec![json!({"token": token, "logprob": logprob})];
            match token.as_str() {
                "yes" => alternatives.push(json!({"token": "no", "logprob": logprob - 1.5})),
                "no" => alternatives.push(json!({"token": "yes", "logprob": logprob - 1.5})),
                _ => {}
            }
            alternatives.push(json!({"token": " the", "logprob": logprob - 4.0}));
            alternatives.truncate(top.max(1));
            json!({"token": token, "logprob": logprob, "top_logprobs": alternatives})
        })
        .collect();
    json!({ "content": content })
}

/// One choice per text (`n` of them when the request asks for `n`).
fn openai_answer(request: &Value, texts: &[String]) -> String {
    let prompt_chars = prompt_chars(request);
    let words: usize = texts.iter().map(|t| t.split_whitespace().count()).sum();
    let choices: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            json!({"index": i, "finish_reason": "stop",
                   "message": {"role": "assistant", "content": text, "refusal": null}})
        })
        .collect();
    let mut answer = json!({
        "id": "chatcmpl-mock",
        "object": "chat.completion",
        "created": 0,
        "model": request["model"],
        "choices": choices,
        "usage": {"prompt_tokens": prompt_chars / 4 + 1,
                  "completion_tokens": words,
                  "total_tokens": prompt_chars / 4 + 1 + words}
    });
    if request.get("prompt_logprobs").is_some() {
        answer["prompt_logprobs"] = mock_prompt_logprobs(request);
    }
    if request["logprobs"] == json!(true) {
        let model = request["model"].as_str().unwrap_or("");
        let top = request["top_logprobs"].as_u64().unwrap_or(0) as usize;
        for (i, text) in texts.iter().enumerate() {
            answer["choices"][i]["logprobs"] = mock_token_logprobs(model, text, top);
        }
    }
    answer.to_string()
}

fn anthropic_answer(request: &Value, text: &str) -> String {
    let prompt_chars = prompt_chars(request);
    json!({
        "id": "msg_mock", "type": "message", "role": "assistant", "model": request["model"],
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": prompt_chars / 4 + 1,
                  "output_tokens": text.split_whitespace().count()}
    })
    .to_string()
}

impl MockServer {
    pub fn start(options: MockOptions) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let state = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let options = Arc::new(options);
        {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (state, options) = (state.clone(), options.clone());
                    std::thread::spawn(move || serve(stream, &state, &options));
                }
            });
        }
        Ok(MockServer { port, state, stop })
    }

    /// The base URL an OpenAI-compatible client is given.
    pub fn openai_base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// The base URL an Anthropic client is given.
    pub fn anthropic_base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn stats(&self) -> MockStats {
        self.state.0.lock().expect("mock lock").stats.clone()
    }

    /// While held, requests are read but not answered.
    pub fn hold(&self, held: bool) {
        self.state.0.lock().expect("mock lock").held = held;
        self.state.1.notify_all();
    }

    /// Requests being handled right now.
    pub fn in_flight(&self) -> usize {
        self.state.0.lock().expect("mock lock").in_flight
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.hold(false);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(stream: TcpStream, state: &(Mutex<State>, Condvar), options: &MockOptions) {
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut writer = write_half;
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let started = Instant::now();
        let key = digest(&request.body);
        let header = |name: &str| {
            request
                .headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let credential = header("authorization")
            .map(|v| v.trim_start_matches("Bearer ").to_owned())
            .or_else(|| header("x-api-key"));
        let attempt = {
            let mut s = state.0.lock().expect("mock lock");
            s.stats.requests += 1;
            s.in_flight += 1;
            s.stats.max_in_flight = s.stats.max_in_flight.max(s.in_flight);
            if let Some(c) = &credential {
                s.stats.credentials_seen.push(c.clone());
            }
            if let Some(v) = header("anthropic-version") {
                s.stats.anthropic_versions_seen.push(v);
            }
            let model = serde_json::from_str::<Value>(&request.body)
                .ok()
                .and_then(|b| b["model"].as_str().map(str::to_owned))
                .unwrap_or_default();
            *s.stats.models_seen.entry(model).or_insert(0) += 1;
            let n = s.stats.attempts.entry(key.clone()).or_insert(0);
            *n += 1;
            *n - 1
        };
        let mut guard = InFlightGuard {
            state,
            counted: true,
        };
        let keep_open = handle(
            &request,
            &key,
            attempt,
            credential,
            &mut writer,
            &mut guard,
            options,
            started,
        );
        drop(guard);
        if !keep_open || request.close {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Counts a request as in flight until its response starts on the wire (the client frees its
/// slot when the response arrives, so counting until the write ends would overlap the next).
struct InFlightGuard<'a> {
    state: &'a (Mutex<State>, Condvar),
    counted: bool,
}

impl InFlightGuard<'_> {
    fn release(&mut self) {
        if self.counted {
            self.counted = false;
            self.state.0.lock().expect("mock lock").in_flight -= 1;
        }
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.release();
    }
}

/// Answers one request; returns whether the connection may be reused.
#[allow(clippy::too_many_arguments)]
fn handle(
    request: &Request,
    key: &str,
    attempt: usize,
    credential: Option<String>,
    writer: &mut TcpStream,
    guard: &mut InFlightGuard<'_>,
    options: &MockOptions,
    started: Instant,
) -> bool {
    let state = guard.state;
    let together = request.path == "/v1/files/upload" || request.path.starts_with("/v1/fine-tunes");
    let anthropic = match request.path.as_str() {
        "/v1/chat/completions" => false,
        "/v1/messages" => true,
        _ if together => false,
        _ => {
            let body = json!({"error": {"message": format!("no route {}", request.path)}});
            return respond(writer, 404, &[], &body.to_string());
        }
    };
    if let Some(expected) = &options.api_key
        && credential.as_deref() != Some(expected.as_str())
    {
        let sent = credential.unwrap_or_default();
        let body = json!({"error": {"message": format!("Incorrect API key provided: {sent}"),
                                    "type": "invalid_request_error"}});
        return respond(writer, 401, &[], &body.to_string());
    }
    let parsed: Value = match serde_json::from_str(&request.body) {
        Ok(v) => v,
        Err(_) if together => Value::Null,
        Err(e) => {
            let body = json!({"error": {"message": format!("bad JSON: {e}")}});
            return respond(writer, 400, &[], &body.to_string());
        }
    };
    let faulted = options.fault_every > 0
        && u64::from_str_radix(&key[..8], 16)
            .unwrap_or(0)
            .is_multiple_of(options.fault_every);
    let fault = faulted
        .then(|| options.faults.get(attempt).copied())
        .flatten();
    if let Some(f) = fault {
        *state
            .0
            .lock()
            .expect("mock lock")
            .stats
            .faults_served
            .entry(f.name())
            .or_insert(0) += 1;
    }
    // Together's routes change state, so they run only when no fault replaces the answer (a
    // faulted call then did nothing, as a 429 promises).
    let answer = if together {
        if fault.is_some() {
            String::new()
        } else {
            match together_answer(request, &parsed, state) {
                Ok(a) => a,
                Err((status, message)) => {
                    let body = json!({"error": {"message": message}});
                    return respond(writer, status, &[], &body.to_string());
                }
            }
        }
    } else {
        let respond_to = |request: &Value| match &options.responder {
            Some(r) => r(request),
            None => default_answer(request),
        };
        if anthropic {
            anthropic_answer(&parsed, &respond_to(&parsed))
        } else {
            // Choice j of an `n`-choice call answers as a one-choice call with seed + j would.
            let n = parsed["n"].as_u64().unwrap_or(1).max(1);
            let seed = parsed["seed"].as_u64().unwrap_or(0);
            let texts: Vec<String> = (0..n)
                .map(|j| {
                    let mut one = parsed.clone();
                    one["n"] = json!(1);
                    one["seed"] = json!(seed + j);
                    respond_to(&one)
                })
                .collect();
            openai_answer(&parsed, &texts)
        }
    };
    // Latency, then wait while held.
    if let Some(rest) = options.latency.checked_sub(started.elapsed()) {
        std::thread::sleep(rest);
    }
    {
        let mut s = state.0.lock().expect("mock lock");
        while s.held {
            s = state.1.wait(s).expect("mock lock");
        }
    }
    if !matches!(fault, Some(Fault::Slow(_))) {
        guard.release();
    }
    match fault {
        None => {
            let ok = respond(writer, 200, &[], &answer);
            if ok {
                *state
                    .0
                    .lock()
                    .expect("mock lock")
                    .stats
                    .answered
                    .entry(key.to_owned())
                    .or_insert(0) += 1;
            }
            ok
        }
        Some(Fault::RateLimited { retry_after_s }) => respond(
            writer,
            429,
            &[("retry-after", retry_after_s.to_string())],
            &json!({"error": {"message": "Rate limit reached", "type": "rate_limit_error"}})
                .to_string(),
        ),
        Some(Fault::RateLimitedMs { retry_after_ms }) => respond(
            writer,
            429,
            &[("retry-after-ms", retry_after_ms.to_string())],
            &json!({"error": {"message": "Rate limit reached", "type": "rate_limit_error"}})
                .to_string(),
        ),
        Some(Fault::ServerError) => {
            let mut message = "The server had an error while processing your request".to_owned();
            if options.echo_credentials {
                message.push_str(&format!(
                    " (request from {})",
                    credential.unwrap_or_default()
                ));
            }
            respond(writer, 500, &[], &json!({"error": {"message": message}}).to_string())
        }
        Some(Fault::Overloaded) => respond(
            writer,
            529,
            &[],
            &json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
                .to_string(),
        ),
        Some(Fault::Slow(d)) => {
            std::thread::sleep(d);
            guard.release();
            respond(writer, 200, &[], &answer);
            false
        }
        Some(Fault::TruncatedJson) => {
            respond(writer, 200, &[], &answer[..answer.len() / 2]);
            true
        }
        Some(Fault::DropConnection) => false,
    }
}
