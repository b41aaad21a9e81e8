//! [`HttpChatModel`]: a hosted or served model as a `ChatModel`. Each request is looked up in
//! the response cache, then sent (within the endpoint's in-flight limit) and retried by the
//! rules of [`crate::retry`]; the answer is cached and booked in the ledger as soon as it
//! arrives. Requests of one `generate` call run on up to twice `max_in_flight` threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use neglect_spec::chat::{ChatCompletion, ChatError, ChatModel, ChatRequest, ScoreItem};
use serde_json::Value;

use crate::cache::{self, ResponseCache};
use crate::config::{Endpoint, Provider};
use crate::ledger::{CallRecord, Ledger, Outcome};
use crate::limiter::{self, InFlight, Lane};
use crate::retry::{self, Decision};
use crate::secret::{ApiKey, scrub};
use crate::{ApiError, Reply, Usage, anthropic, openai};

/// Counts since the model was built, for the closing line of a command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Calls answered by the server.
    pub paid: usize,
    pub cached: usize,
    pub failed: usize,
    /// Attempts beyond the first.
    pub retries: usize,
}

#[derive(Default)]
struct Counters {
    paid: AtomicUsize,
    cached: AtomicUsize,
    failed: AtomicUsize,
    retries: AtomicUsize,
}

pub struct HttpChatModel {
    id: String,
    endpoint: Endpoint,
    key: Option<ApiKey>,
    agent: ureq::Agent,
    limiter: Arc<InFlight>,
    cache: Option<Arc<ResponseCache>>,
    ledger: Option<Arc<Ledger>>,
    purpose: String,
    counters: Counters,
}

/// The result of one attempt on the wire.
enum Attempt {
    Answered(Reply),
    Status {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    Malformed(String),
    Transport(String),
}

impl HttpChatModel {
    /// Checks the endpoint and reads the key: the named variable (which must be set), else the
    /// provider's usual variable when set, else none.
    pub fn new(endpoint: Endpoint) -> Result<HttpChatModel, ApiError> {
        endpoint.validate()?;
        let key = match &endpoint.api_key_env {
            Some(var) => Some(ApiKey::from_env(var)?),
            None => ApiKey::from_env(endpoint.provider.default_key_env()).ok(),
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(endpoint.timeout))
            .http_status_as_error(false)
            .max_idle_connections(endpoint.max_in_flight.max(8))
            .max_idle_connections_per_host(endpoint.max_in_flight.max(8))
            .user_agent(concat!("neglect/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(HttpChatModel {
            id: endpoint.model.clone(),
            limiter: limiter::for_base_url(&endpoint.base_url, endpoint.max_in_flight),
            endpoint,
            key,
            agent,
            cache: None,
            ledger: None,
            purpose: "answer".into(),
            counters: Counters::default(),
        })
    }

    pub fn with_cache(mut self, cache: Arc<ResponseCache>) -> HttpChatModel {
        self.cache = Some(cache);
        self
    }

    /// Books every call in `ledger` under `purpose` (`answer`, `judge`, ...). With a budget,
    /// an unpriced model is refused here.
    pub fn with_ledger(
        mut self,
        ledger: Arc<Ledger>,
        purpose: &str,
    ) -> Result<HttpChatModel, ApiError> {
        ledger.check_priced(&self.endpoint.model)?;
        self.ledger = Some(ledger);
        self.purpose = purpose.to_owned();
        Ok(self)
    }

    /// The name in results rows; the model id unless set.
    pub fn with_id(mut self, id: &str) -> HttpChatModel {
        self.id = id.to_owned();
        self
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn stats(&self) -> CallStats {
        CallStats {
            paid: self.counters.paid.load(Ordering::Relaxed),
            cached: self.counters.cached.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
            retries: self.counters.retries.load(Ordering::Relaxed),
        }
    }

    fn body(&self, request: &ChatRequest) -> Value {
        match self.endpoint.provider {
            Provider::OpenAi => openai::request_body(&self.endpoint, request),
            Provider::Anthropic => anthropic::request_body(&self.endpoint, request),
        }
    }

    fn parse(&self, body: &str) -> Result<Reply, String> {
        match self.endpoint.provider {
            Provider::OpenAi => openai::parse_response(body),
            Provider::Anthropic => anthropic::parse_response(body),
        }
    }

    /// One attempt: the request on the wire, within the in-flight limit.
    fn attempt(&self, body: &str) -> Attempt {
        let _slot = self.limiter.acquire(CALL_LANE.get());
        let mut request = self
            .agent
            .post(self.endpoint.url())
            .header("content-type", "application/json");
        match (self.endpoint.provider, &self.key) {
            (Provider::OpenAi, Some(key)) => {
                request = request.header("authorization", format!("Bearer {}", key.expose()));
            }
            (Provider::Anthropic, Some(key)) => {
                request = request.header("x-api-key", key.expose());
            }
            (_, None) => {}
        }
        if self.endpoint.provider == Provider::Anthropic {
            request = request.header("anthropic-version", anthropic::API_VERSION);
        }
        for (name, value) in &self.endpoint.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let mut response = match request.send(body) {
            Ok(r) => r,
            Err(e) => return Attempt::Transport(describe_transport(&e)),
        };
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let text = match response.body_mut().read_to_string() {
            Ok(t) => t,
            Err(e) => return Attempt::Transport(describe_transport(&e)),
        };
        if !(200..300).contains(&status) {
            return Attempt::Status {
                status,
                headers,
                body: text,
            };
        }
        match self.parse(&text) {
            Ok(reply) => Attempt::Answered(reply),
            Err(why) => Attempt::Malformed(why),
        }
    }

    /// Sends one request until it is answered or its retries run out.
    fn call(&self, body: &Value) -> (Result<Reply, String>, usize) {
        let text = body.to_string();
        let (mut retries, mut malformed) = (0usize, 0usize);
        let base = self.endpoint.backoff_base;
        let max = self.endpoint.max_retries;
        loop {
            let decision = match self.attempt(&text) {
                Attempt::Answered(reply) => return (Ok(reply), retries + 1),
                Attempt::Status {
                    status,
                    headers,
                    body,
                } => {
                    let header = |name: &str| {
                        headers
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(name))
                            .map(|(_, v)| v.clone())
                    };
                    retry::after_status(status, &header, &body, retries, max, base)
                }
                Attempt::Malformed(why) => {
                    malformed += 1;
                    if malformed > self.endpoint.max_malformed_retries {
                        Decision::Fatal(format!("{why} ({malformed} malformed responses in a row)"))
                    } else {
                        retry::after_transport_error(&why, retries, max, base)
                    }
                }
                Attempt::Transport(why) => retry::after_transport_error(&why, retries, max, base),
            };
            match decision {
                Decision::Retry { delay, .. } => {
                    retries += 1;
                    self.counters.retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(delay);
                }
                Decision::Fatal(why) => return (Err(why), retries + 1),
            }
        }
    }

    fn prompt_chars(request: &ChatRequest) -> usize {
        request.messages.iter().map(|m| m.content.len()).sum()
    }

    fn book(
        &self,
        outcome: Outcome,
        attempts: usize,
        usage: Usage,
        reservation: Option<crate::ledger::Reservation>,
    ) -> Result<(), String> {
        let Some(ledger) = &self.ledger else {
            return Ok(());
        };
        ledger
            .book(
                &CallRecord {
                    provider: self.endpoint.provider.name(),
                    model: &self.endpoint.model,
                    purpose: &self.purpose,
                    outcome,
                    attempts,
                    usage,
                },
                reservation,
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Answers one request: the cache, else the server.
    pub fn generate_one(&self, request: &ChatRequest) -> Result<ChatCompletion, ChatError> {
        let body = self.body(request);
        self.answer(
            &body,
            request.seed,
            Self::prompt_chars(request),
            request.sampling.max_tokens,
        )
        .map(|reply| reply.completion)
    }

    /// The cached reply under `key`, counted and booked as cached; `None` when there is none
    /// (or no cache).
    fn cached_reply(&self, key: &str) -> Option<Result<Reply, ChatError>> {
        let fail = |e: String| ChatError::Failed(scrub(self.key.as_ref(), &e));
        let cache = self.cache.as_ref()?;
        match cache.get(key) {
            Ok(Some(reply)) => {
                self.counters.cached.fetch_add(1, Ordering::Relaxed);
                Some(
                    self.book(Outcome::Cached, 0, reply.usage, None)
                        .map(|_| reply)
                        .map_err(fail),
                )
            }
            Ok(None) => None,
            Err(e) => Some(Err(fail(e.to_string()))),
        }
    }

    /// One call for `body`: from the cache when answered before, else reserved against the
    /// budget, sent with retries, cached and booked.
    fn answer(
        &self,
        body: &Value,
        seed: u64,
        prompt_chars: usize,
        max_tokens: usize,
    ) -> Result<Reply, ChatError> {
        let key = cache::key(&self.endpoint, body, seed);
        let fail = |e: String| ChatError::Failed(scrub(self.key.as_ref(), &e));
        if let Some(cached) = self.cached_reply(&key) {
            return cached;
        }
        let reservation = match &self.ledger {
            Some(ledger) => Some(
                ledger
                    .reserve(&self.endpoint.model, prompt_chars, max_tokens)
                    .map_err(fail)?,
            ),
            None => None,
        };
        let (result, attempts) = self.call(body);
        match result {
            Ok(reply) => {
                self.counters.paid.fetch_add(1, Ordering::Relaxed);
                if let Some(cache) = &self.cache {
                    cache
                        .put(&key, &self.endpoint, &reply)
                        .map_err(|e| fail(e.to_string()))?;
                }
                self.book(Outcome::Paid, attempts, reply.usage, reservation)
                    .map_err(fail)?;
                Ok(reply)
            }
            Err(why) => {
                self.counters.failed.fetch_add(1, Ordering::Relaxed);
                self.book(Outcome::Failed, attempts, Usage::default(), reservation)
                    .map_err(fail)?;
                Err(fail(format!(
                    "{} {}: {why}",
                    self.endpoint.provider.name(),
                    self.endpoint.model
                )))
            }
        }
    }

    /// Answers requests that differ only in their seed: cached ones from the cache, the rest
    /// with one call asking for that many choices. Each choice is cached under its own
    /// request's key (the key of a one-choice call), and a server that returns fewer choices
    /// than asked has the rest asked one by one.
    fn answer_group(&self, requests: &[&ChatRequest]) -> Vec<Result<ChatCompletion, ChatError>> {
        let fail = |e: String| ChatError::Failed(scrub(self.key.as_ref(), &e));
        let bodies: Vec<Value> = requests.iter().map(|r| self.body(r)).collect();
        let keys: Vec<String> = bodies
            .iter()
            .zip(requests)
            .map(|(b, r)| cache::key(&self.endpoint, b, r.seed))
            .collect();
        let mut results: Vec<Option<Result<ChatCompletion, ChatError>>> =
            (0..requests.len()).map(|_| None).collect();
        for (i, key) in keys.iter().enumerate() {
            results[i] = self
                .cached_reply(key)
                .map(|r| r.map(|reply| reply.completion));
        }
        let misses: Vec<usize> = (0..requests.len())
            .filter(|i| results[*i].is_none())
            .collect();
        if misses.len() >= 2 {
            let first = misses[0];
            let mut body = bodies[first].clone();
            body["n"] = Value::from(misses.len());
            let request = requests[first];
            let reservation = match &self.ledger {
                Some(ledger) => match ledger.reserve(
                    &self.endpoint.model,
                    Self::prompt_chars(request),
                    request.sampling.max_tokens * misses.len(),
                ) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        for &i in &misses {
                            results[i] = Some(Err(fail(e.clone())));
                        }
                        return results.into_iter().map(|r| r.expect("set")).collect();
                    }
                },
                None => None,
            };
            let (result, attempts) = self.call(&body);
            match result {
                Ok(reply) => {
                    self.counters.paid.fetch_add(1, Ordering::Relaxed);
                    let booked = self.book(Outcome::Paid, attempts, reply.usage, reservation);
                    let choices = std::iter::once(reply.completion).chain(reply.extra_choices);
                    for (j, (i, choice)) in misses.iter().zip(choices).enumerate() {
                        let single = Reply {
                            completion: choice.clone(),
                            // The call's usage goes with its first choice.
                            usage: if j == 0 {
                                reply.usage
                            } else {
                                Usage::default()
                            },
                            prompt_logprobs: None,
                            extra_choices: Vec::new(),
                            token_logprobs: None,
                        };
                        let stored = match &self.cache {
                            Some(cache) => cache
                                .put(&keys[*i], &self.endpoint, &single)
                                .map_err(|e| fail(e.to_string())),
                            None => Ok(()),
                        };
                        results[*i] =
                            Some(stored.and(booked.clone().map_err(fail)).map(|_| choice));
                    }
                }
                Err(why) => {
                    self.counters.failed.fetch_add(1, Ordering::Relaxed);
                    let booked =
                        self.book(Outcome::Failed, attempts, Usage::default(), reservation);
                    let why = format!(
                        "{} {}: {why}",
                        self.endpoint.provider.name(),
                        self.endpoint.model
                    );
                    for &i in &misses {
                        results[i] = Some(Err(fail(match &booked {
                            Ok(()) => why.clone(),
                            Err(e) => e.clone(),
                        })));
                    }
                }
            }
        }
        results
            .into_iter()
            .zip(requests)
            .map(|(r, request)| r.unwrap_or_else(|| self.generate_one(request)))
            .collect()
    }

    /// Indices of `requests` in groups of at most `size` that differ only in their seed, in
    /// first-appearance order.
    fn seed_groups(requests: &[ChatRequest], size: usize) -> Vec<Vec<usize>> {
        let mut open: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, r) in requests.iter().enumerate() {
            let key = serde_json::to_string(&(&r.messages, &r.sampling, &r.json_schema))
                .expect("requests serialise");
            match open.get(&key) {
                Some(&g) if groups[g].len() < size => groups[g].push(i),
                _ => {
                    open.insert(key, groups.len());
                    groups.push(vec![i]);
                }
            }
        }
        groups
    }

    /// `work(i)` for every `i < n` on worker threads, `on_done(i)` called on this thread as each
    /// finishes (it need not be `Send`); the results in order. Twice the in-flight limit of
    /// workers: one committing its answer to the cache and ledger leaves its slot to another
    /// instead of delaying the next call.
    fn in_parallel<T: Send>(
        &self,
        n: usize,
        work: &(dyn Fn(usize) -> T + Sync),
        on_done: &mut dyn FnMut(usize),
    ) -> Vec<T> {
        let results: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
        let next = AtomicUsize::new(0);
        let workers = (2 * self.limiter.limit()).min(n).max(1);
        let (done_tx, done_rx) = mpsc::channel::<usize>();
        std::thread::scope(|s| {
            for _ in 0..workers {
                let done_tx = done_tx.clone();
                let (next, results) = (&next, &results);
                s.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break;
                        }
                        let result = work(i);
                        results.lock().expect("results lock")[i] = Some(result);
                        let _ = done_tx.send(i);
                    }
                });
            }
            drop(done_tx);
            for i in done_rx {
                on_done(i);
            }
        });
        results
            .into_inner()
            .expect("results lock")
            .into_iter()
            .map(|r| r.expect("every index was worked on"))
            .collect()
    }

    /// The log-probability of one continuation after a conversation, from vLLM's
    /// `prompt_logprobs`: the conversation with the continuation as an unfinished assistant
    /// turn, one token generated, and the log-probabilities of the prompt tokens that spell the
    /// continuation (counted back from the end) summed.
    fn score_one(&self, item: &ScoreItem) -> Result<f64, ChatError> {
        let mut messages = item.messages.clone();
        messages.push(neglect_spec::ChatMessage {
            role: "assistant".into(),
            content: item.continuation.clone(),
        });
        let request = ChatRequest {
            messages,
            sampling: neglect_spec::Sampling {
                temperature: 0.0,
                top_p: 1.0,
                max_tokens: 1,
            },
            seed: 0,
            json_schema: None,
        };
        let mut body = self.body(&request);
        if let Some(map) = body.as_object_mut() {
            map.insert("add_generation_prompt".into(), Value::Bool(false));
            map.insert("continue_final_message".into(), Value::Bool(true));
            map.insert("prompt_logprobs".into(), Value::from(0));
        }
        let reply = self.answer(&body, 0, Self::prompt_chars(&request), 1)?;
        let tokens = reply.prompt_logprobs.ok_or_else(|| {
            ChatError::Unsupported(format!(
                "log-probabilities of continuations: {} returned no prompt_logprobs (a vLLM \
                 server is needed)",
                self.endpoint.base_url
            ))
        })?;
        let wanted = item.continuation.trim();
        let mut spelled = String::new();
        let mut total = 0.0;
        for (token, logprob) in tokens.iter().rev() {
            spelled.insert_str(0, token);
            total += logprob;
            if spelled.trim_start().len() >= wanted.len() {
                break;
            }
        }
        if !spelled.contains(wanted) {
            return Err(ChatError::Failed(format!(
                "the prompt tokens end with {spelled:?}, not the continuation {wanted:?} (the \
                 chat template may add text after an unfinished assistant turn)"
            )));
        }
        Ok(total)
    }
}

/// Alternatives asked for at each generated token (OpenAI's maximum).
const TOP_LOGPROBS: usize = 20;

impl HttpChatModel {
    /// The greedy answer to `messages` with each token's `top_logprobs`, from which
    /// [`continuation_logprob`] scores a continuation: the
    /// tokens the continuation shares with the greedy answer, plus the alternative at the
    /// token where it leaves it; its tokens after that are not known and count as certain, so
    /// the score is an upper bound. For yes/no JSON answers that leave the greedy answer at
    /// the yes / no token, only the closing `"}` is assumed (a model gives it ~0 nats), so the
    /// margin is all but exact. A continuation not among the alternatives where it leaves
    /// gets the lowest alternative's log-probability (again an upper bound). The answer is
    /// cached like any other.
    fn greedy_top_logprobs(
        &self,
        messages: &[neglect_spec::ChatMessage],
        longest_continuation: usize,
    ) -> Result<Vec<crate::TokenLogprob>, ChatError> {
        let request = ChatRequest {
            messages: messages.to_vec(),
            sampling: neglect_spec::Sampling {
                temperature: 0.0,
                top_p: 1.0,
                max_tokens: longest_continuation.div_ceil(2) + 8,
            },
            seed: 0,
            json_schema: None,
        };
        let mut body = self.body(&request);
        if let Some(map) = body.as_object_mut() {
            map.insert("logprobs".into(), Value::Bool(true));
            map.insert("top_logprobs".into(), Value::from(TOP_LOGPROBS));
        }
        let reply = self.answer(
            &body,
            0,
            Self::prompt_chars(&request),
            request.sampling.max_tokens,
        )?;
        reply.token_logprobs.ok_or_else(|| {
            ChatError::Unsupported(format!(
                "log-probabilities of continuations: {} {} returned no logprobs",
                self.endpoint.base_url, self.endpoint.model
            ))
        })
    }
}

/// The log-probability of `continuation` given a greedy answer's tokens and their
/// `top_logprobs` (see [`HttpChatModel::greedy_top_logprobs`]).
pub fn continuation_logprob(tokens: &[crate::TokenLogprob], continuation: &str) -> f64 {
    let mut rest = continuation;
    let mut total = 0.0;
    for t in tokens {
        if rest.is_empty() {
            return total;
        }
        let continues =
            |tok: &str| !tok.is_empty() && (rest.starts_with(tok) || tok.starts_with(rest));
        if continues(&t.token) {
            total += t.logprob;
            if t.token.len() >= rest.len() {
                return total;
            }
            rest = &rest[t.token.len()..];
            continue;
        }
        // The continuation leaves the greedy answer here.
        let alternative = t
            .top
            .iter()
            .filter(|(tok, _)| continues(tok))
            .max_by_key(|(tok, _)| tok.len())
            .map(|(_, lp)| *lp);
        let floor = t.top.iter().map(|(_, lp)| *lp).fold(t.logprob, f64::min);
        return total + alternative.unwrap_or(floor);
    }
    total
}

fn describe_transport(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Timeout(what) => format!("timed out ({what})"),
        ureq::Error::Io(e) => format!("connection error: {e}"),
        other => format!("request failed: {other}"),
    }
}

thread_local! {
    /// The lane of calls made on this thread: `FollowUp` while an `after_each` callback runs
    /// (a judge call made as its answer arrived), so those yield slots to the first stage.
    static CALL_LANE: std::cell::Cell<Lane> = const { std::cell::Cell::new(Lane::First) };
}

impl ChatModel for HttpChatModel {
    fn id(&self) -> &str {
        &self.id
    }

    fn generate(
        &self,
        requests: &[ChatRequest],
        on_done: &mut dyn FnMut(usize),
    ) -> Vec<Result<ChatCompletion, ChatError>> {
        self.generate_with(requests, on_done, &|_, _| {})
    }

    fn answers_concurrently(&self) -> bool {
        true
    }

    fn score(&self, items: &[ScoreItem]) -> Result<Vec<f64>, ChatError> {
        let openai = self.endpoint.provider == Provider::OpenAi;
        // Concurrently, within the in-flight limit, like answers.
        if openai && self.endpoint.prompt_logprobs {
            return self
                .in_parallel(items.len(), &|i| self.score_one(&items[i]), &mut |_| {})
                .into_iter()
                .collect();
        }
        if openai && self.endpoint.top_logprobs {
            // One greedy answer per conversation scores every continuation after it.
            let mut conversations: Vec<&[neglect_spec::ChatMessage]> = Vec::new();
            let mut of_item = Vec::with_capacity(items.len());
            for item in items {
                let at = match conversations
                    .iter()
                    .position(|c| *c == item.messages.as_slice())
                {
                    Some(at) => at,
                    None => {
                        conversations.push(&item.messages);
                        conversations.len() - 1
                    }
                };
                of_item.push(at);
            }
            let longest = |c: usize| {
                items
                    .iter()
                    .zip(&of_item)
                    .filter(|(_, at)| **at == c)
                    .map(|(item, _)| item.continuation.len())
                    .max()
                    .unwrap_or(0)
            };
            let answers = self.in_parallel(
                conversations.len(),
                &|c| self.greedy_top_logprobs(conversations[c], longest(c)),
                &mut |_| {},
            );
            return items
                .iter()
                .zip(&of_item)
                .map(|(item, &c)| match &answers[c] {
                    Ok(tokens) => Ok(continuation_logprob(tokens, &item.continuation)),
                    Err(e) => Err(e.clone()),
                })
                .collect();
        }
        Err(ChatError::Unsupported(
            "log-probabilities of continuations from a hosted model (a vLLM server gives \
             them: --score-via-prompt-logprobs; OpenAI chat models that return logprobs: \
             --score-via-top-logprobs)"
                .into(),
        ))
    }

    fn generate_with(
        &self,
        requests: &[ChatRequest],
        on_done: &mut dyn FnMut(usize),
        after_each: &(dyn Fn(usize, &Result<ChatCompletion, ChatError>) + Sync),
    ) -> Vec<Result<ChatCompletion, ChatError>> {
        // One request (a judge call made as its answer arrives) runs on the caller's thread:
        // a thread per call costs more CPU (stack mapping, TLB shootdowns) than the call.
        if let [request] = requests {
            let result = self.generate_one(request);
            let lane = CALL_LANE.replace(Lane::FollowUp);
            after_each(0, &result);
            CALL_LANE.set(lane);
            on_done(0);
            return vec![result];
        }
        let size = self.endpoint.samples_per_call;
        if size > 1 && self.endpoint.provider == Provider::OpenAi {
            let groups = Self::seed_groups(requests, size);
            let answered = self.in_parallel(
                groups.len(),
                &|g| {
                    let members: Vec<&ChatRequest> =
                        groups[g].iter().map(|&i| &requests[i]).collect();
                    let results = self.answer_group(&members);
                    CALL_LANE.set(Lane::FollowUp);
                    for (&i, result) in groups[g].iter().zip(&results) {
                        after_each(i, result);
                    }
                    CALL_LANE.set(Lane::First);
                    results
                },
                &mut |g| {
                    for &i in &groups[g] {
                        on_done(i);
                    }
                },
            );
            let mut out: Vec<Option<Result<ChatCompletion, ChatError>>> =
                (0..requests.len()).map(|_| None).collect();
            for (group, results) in groups.iter().zip(answered) {
                for (&i, result) in group.iter().zip(results) {
                    out[i] = Some(result);
                }
            }
            return out
                .into_iter()
                .map(|r| r.expect("every request is in a group"))
                .collect();
        }
        self.in_parallel(
            requests.len(),
            &|i| {
                let result = self.generate_one(&requests[i]);
                CALL_LANE.set(Lane::FollowUp);
                after_each(i, &result);
                CALL_LANE.set(Lane::First);
                result
            },
            on_done,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::continuation_logprob;
    use crate::TokenLogprob;

    fn token(t: &str, lp: f64, top: &[(&str, f64)]) -> TokenLogprob {
        TokenLogprob {
            token: t.into(),
            logprob: lp,
            top: top.iter().map(|(t, l)| ((*t).into(), *l)).collect(),
        }
    }

    #[test]
    fn a_continuation_is_scored_along_the_greedy_answer_and_where_it_leaves_it() {
        let answer = [
            token("{\"", -0.01, &[("{\"", -0.01)]),
            token("answer", -0.02, &[("answer", -0.02)]),
            token("\": \"", -0.03, &[("\": \"", -0.03)]),
            token("yes", -0.2, &[("yes", -0.2), ("no", -1.8), ("maybe", -4.0)]),
            token("\"}", -0.01, &[("\"}", -0.01)]),
        ];
        let yes = continuation_logprob(&answer, "{\"answer\": \"yes\"}");
        let no = continuation_logprob(&answer, "{\"answer\": \"no\"}");
        assert!((yes - (-0.01 - 0.02 - 0.03 - 0.2 - 0.01)).abs() < 1e-12);
        assert!((no - (-0.01 - 0.02 - 0.03 - 1.8)).abs() < 1e-12);
        // Not among the alternatives where it leaves: the lowest one, an upper bound.
        let never = continuation_logprob(&answer, "{\"answer\": \"perhaps\"}");
        assert!((never - (-0.01 - 0.02 - 0.03 - 4.0)).abs() < 1e-12);
        // A continuation that ends inside a token counts that token.
        assert!((continuation_logprob(&answer, "{\"ans") - (-0.03)).abs() < 1e-12);
    }
}
