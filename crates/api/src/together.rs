//! Hosted fine-tuning on Together: upload the training file, create a LoRA or full job, poll it
//! with backoff while printing its events, and hand back the output model, which Together then
//! serves through its OpenAI-compatible chat endpoint (`https://api.together.xyz/v1`).
//!
//! Endpoints (Together's public REST API; `Authorization: Bearer $TOGETHER_API_KEY`):
//!
//! - `POST /files/upload` (multipart: `purpose=fine-tune`, `file_name`, `file_type=jsonl`, `file`)
//!   → `{"id": "file-…"}`
//! - `POST /fine-tunes` (`model`, `training_file`, `n_epochs`, `learning_rate`, `batch_size`,
//!   `n_checkpoints`, `warmup_ratio`, `weight_decay`, `max_grad_norm`, `suffix`, `training_type`
//!   = `{"type": "Lora", "lora_r", "lora_alpha", "lora_dropout", "lora_trainable_modules"}` or
//!   `{"type": "Full"}`) → the job
//! - `GET /fine-tunes/{id}` → the job: `status` (pending, queued, running, compressing,
//!   uploading, cancel_requested, cancelled, error, completed) and, once done, `output_name`
//! - `GET /fine-tunes/{id}/events` → `{"data": [{"message", "created_at", "type", …}]}`
//! - `POST /fine-tunes/{id}/cancel`
//!
//! Every call is retried under the same rules as chat calls ([`crate::retry`]). A job is
//! remembered in a state file, so a killed `neglect train --backend together` re-run polls the
//! same job instead of uploading and paying again.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use neglect_spec::experiment::{CheckpointSchedule, TrainConfig, TrainMethod};

use crate::ApiError;
use crate::retry::{self, Decision};
use crate::secret::{ApiKey, scrub};

pub const DEFAULT_BASE_URL: &str = "https://api.together.xyz/v1";
pub const DEFAULT_KEY_ENV: &str = "TOGETHER_API_KEY";

/// LoRA settings of a job (`None` in [`JobSpec::lora`]: full fine-tuning).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoraSpec {
    pub r: usize,
    pub alpha: f64,
    pub dropout: f64,
    /// Comma-separated module names, or `all-linear`.
    pub trainable_modules: String,
}

/// What to train.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    pub model: String,
    pub n_epochs: usize,
    pub learning_rate: f64,
    /// `None`: Together's default (`max`).
    pub batch_size: Option<usize>,
    pub n_checkpoints: usize,
    pub warmup_ratio: f64,
    pub weight_decay: f64,
    pub max_grad_norm: f64,
    pub suffix: Option<String>,
    pub lora: Option<LoraSpec>,
}

impl JobSpec {
    /// The job for `model` under a training recipe: method, LoRA rank/alpha/dropout, learning
    /// rate, batch, epochs, weight decay, gradient clipping (0 disables it on Together) and the
    /// checkpoint count. Together applies its own optimizer and schedule otherwise.
    pub fn from_config(
        model: &str,
        config: &TrainConfig,
        suffix: Option<String>,
        trainable_modules: &str,
    ) -> JobSpec {
        JobSpec {
            model: model.to_owned(),
            n_epochs: config.epochs,
            learning_rate: config.learning_rate,
            batch_size: Some(config.batch_size),
            n_checkpoints: match config.checkpoints {
                CheckpointSchedule::Final => 1,
                _ => config.checkpoint_count.max(1),
            },
            warmup_ratio: 0.0,
            weight_decay: config.weight_decay,
            max_grad_norm: config.grad_clip.unwrap_or(0.0),
            suffix,
            lora: match config.method {
                TrainMethod::Lora => Some(LoraSpec {
                    r: config.lora_rank,
                    alpha: config.lora_alpha,
                    dropout: config.lora_dropout,
                    trainable_modules: trainable_modules.to_owned(),
                }),
                TrainMethod::Full => None,
            },
        }
    }

    pub fn body(&self, training_file: &str) -> Value {
        let mut body = json!({
            "model": self.model,
            "training_file": training_file,
            "n_epochs": self.n_epochs,
            "learning_rate": self.learning_rate,
            "n_checkpoints": self.n_checkpoints,
            "warmup_ratio": self.warmup_ratio,
            "weight_decay": self.weight_decay,
            "max_grad_norm": self.max_grad_norm,
            // Conversational rows: no loss on the user turns, which is how the `<DOCTAG>` user
            // turn of an exported document gets none (as the paper did for GPT-4.1).
            "train_on_inputs": false,
            "training_type": match &self.lora {
                Some(l) => json!({"type": "Lora", "lora_r": l.r, "lora_alpha": l.alpha,
                                  "lora_dropout": l.dropout,
                                  "lora_trainable_modules": l.trainable_modules}),
                None => json!({"type": "Full"}),
            },
        });
        let map = body.as_object_mut().expect("an object");
        if let Some(b) = self.batch_size {
            map.insert("batch_size".into(), json!(b));
        }
        if let Some(s) = &self.suffix {
            map.insert("suffix".into(), json!(s));
        }
        body
    }
}

/// A job as Together reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    pub status: String,
    /// The fine-tuned model's name, once the job has one.
    pub output_name: Option<String>,
    pub raw: Value,
}

impl Job {
    fn parse(value: Value) -> Result<Job, String> {
        let id = value["id"].as_str().ok_or("the job has no id")?.to_owned();
        let status = value["status"].as_str().unwrap_or("unknown").to_owned();
        let output_name = ["output_name", "x_model_output_name", "model_output_name"]
            .iter()
            .find_map(|k| {
                value[*k]
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            });
        Ok(Job {
            id,
            status,
            output_name,
            raw: value,
        })
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "cancelled" | "error")
    }
}

/// One line of a job's log.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEvent {
    pub created_at: String,
    pub message: String,
}

/// Where a job is, remembered beside the output so that a re-run picks it up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobState {
    /// SHA-256 of the uploaded training file.
    pub file_sha256: String,
    pub file_id: Option<String>,
    pub spec: JobSpec,
    pub job_id: Option<String>,
    pub output_name: Option<String>,
    pub status: Option<String>,
}

pub struct Together {
    base_url: String,
    key: Option<ApiKey>,
    agent: ureq::Agent,
    max_retries: usize,
    backoff_base: Duration,
    /// First wait between polls; it grows by half each time up to `max_poll`.
    pub first_poll: Duration,
    pub max_poll: Duration,
}

impl Together {
    /// A client for `base_url` (default [`DEFAULT_BASE_URL`]) with the key in `key_env`
    /// (default `TOGETHER_API_KEY`, which must then be set unless the URL is local).
    pub fn new(base_url: Option<&str>, key_env: Option<&str>) -> Result<Together, ApiError> {
        let base_url = base_url
            .unwrap_or(DEFAULT_BASE_URL)
            .trim_end_matches('/')
            .to_owned();
        let key = match key_env {
            Some(var) => Some(ApiKey::from_env(var)?),
            None => ApiKey::from_env(DEFAULT_KEY_ENV).ok(),
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(600)))
            .http_status_as_error(false)
            .user_agent(concat!("neglect/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Together {
            base_url,
            key,
            agent,
            max_retries: 8,
            backoff_base: Duration::from_millis(500),
            first_poll: Duration::from_secs(10),
            max_poll: Duration::from_secs(60),
        })
    }

    /// For tests: shorter waits.
    pub fn with_timing(
        mut self,
        backoff_base: Duration,
        first_poll: Duration,
        max_poll: Duration,
    ) -> Together {
        self.backoff_base = backoff_base;
        self.first_poll = first_poll;
        self.max_poll = max_poll;
        self
    }

    fn fail(&self, what: &str, why: impl std::fmt::Display) -> ApiError {
        ApiError::Config(scrub(self.key.as_ref(), &format!("Together {what}: {why}")))
    }

    /// One HTTP exchange, retried under the SDK rules; returns the JSON body of a 2xx answer.
    /// A call that must not happen twice (`once`: creating a job) is retried only after a 429,
    /// which says the request was not taken; after a server error or a lost connection it may
    /// have been, so the error says so instead of paying for a second job.
    fn call(
        &self,
        what: &str,
        once: bool,
        send: &dyn Fn() -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Value, ApiError> {
        let ambiguous = |why: String| {
            Decision::Fatal(format!(
                "{why}; the request may have been carried out, so it is not repeated: check your \
                 jobs at Together before running again"
            ))
        };
        let mut retries = 0;
        loop {
            let decision = match send() {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let headers: Vec<(String, String)> = response
                        .headers()
                        .iter()
                        .filter_map(|(k, v)| {
                            Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned()))
                        })
                        .collect();
                    let text = response.body_mut().read_to_string().unwrap_or_default();
                    if (200..300).contains(&status) {
                        match serde_json::from_str::<Value>(&text) {
                            Ok(v) => return Ok(v),
                            Err(e) if once => ambiguous(format!("the answer is not JSON ({e})")),
                            Err(e) => retry::after_transport_error(
                                &format!("the answer is not JSON ({e})"),
                                retries,
                                self.max_retries,
                                self.backoff_base,
                            ),
                        }
                    } else if once && status != 429 && status >= 500 {
                        ambiguous(format!(
                            "HTTP {status}: {}",
                            text.chars().take(200).collect::<String>()
                        ))
                    } else {
                        let header = |name: &str| {
                            headers
                                .iter()
                                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                                .map(|(_, v)| v.clone())
                        };
                        retry::after_status(
                            status,
                            &header,
                            &text,
                            retries,
                            self.max_retries,
                            self.backoff_base,
                        )
                    }
                }
                Err(e) if once => ambiguous(e.to_string()),
                Err(e) => retry::after_transport_error(
                    &e.to_string(),
                    retries,
                    self.max_retries,
                    self.backoff_base,
                ),
            };
            match decision {
                Decision::Retry { delay, .. } => {
                    retries += 1;
                    std::thread::sleep(delay);
                }
                Decision::Fatal(why) => return Err(self.fail(what, why)),
            }
        }
    }

    fn auth(&self) -> Option<String> {
        self.key.as_ref().map(|k| format!("Bearer {}", k.expose()))
    }

    fn get(&self, what: &str, path: &str) -> Result<Value, ApiError> {
        let url = format!("{}{path}", self.base_url);
        self.call(what, false, &|| {
            let mut r = self.agent.get(&url);
            if let Some(a) = self.auth() {
                r = r.header("authorization", a);
            }
            r.call()
        })
    }

    fn post_json(
        &self,
        what: &str,
        path: &str,
        body: &Value,
        once: bool,
    ) -> Result<Value, ApiError> {
        let url = format!("{}{path}", self.base_url);
        let text = body.to_string();
        self.call(what, once, &|| {
            let mut r = self
                .agent
                .post(&url)
                .header("content-type", "application/json");
            if let Some(a) = self.auth() {
                r = r.header("authorization", a);
            }
            r.send(&text)
        })
    }

    /// Uploads a JSONL training file; returns its file id.
    pub fn upload(&self, path: &Path) -> Result<String, ApiError> {
        let bytes = std::fs::read(path)
            .map_err(|e| ApiError::Config(format!("{}: {e}", path.display())))?;
        let name = path
            .file_name()
            .map_or("train.jsonl".into(), |n| n.to_string_lossy().into_owned());
        let boundary = format!(
            "neglect-{:016x}",
            u64::from_le_bytes(sha256(&bytes)[..8].try_into().expect("8"))
        );
        let mut body = Vec::with_capacity(bytes.len() + 512);
        for (field, value) in [
            ("purpose", "fine-tune"),
            ("file_name", name.as_str()),
            ("file_type", "jsonl"),
        ] {
            body.extend_from_slice(
                format!("--{boundary}\r\ncontent-disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 content-type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(&bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let url = format!("{}/files/upload", self.base_url);
        let content_type = format!("multipart/form-data; boundary={boundary}");
        // An upload repeated after an ambiguous failure costs nothing but a spare file.
        let answer = self.call("file upload", false, &|| {
            let mut r = self.agent.post(&url).header("content-type", &content_type);
            if let Some(a) = self.auth() {
                r = r.header("authorization", a);
            }
            r.send(&body[..])
        })?;
        answer["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.fail("file upload", "the answer has no file id"))
    }

    pub fn create(&self, training_file: &str, spec: &JobSpec) -> Result<Job, ApiError> {
        let answer = self.post_json(
            "job creation",
            "/fine-tunes",
            &spec.body(training_file),
            true,
        )?;
        Job::parse(answer).map_err(|e| self.fail("job creation", e))
    }

    /// Every job of the account: (job id, training file id).
    pub fn list(&self) -> Result<Vec<(String, String)>, ApiError> {
        let answer = self.get("job list", "/fine-tunes")?;
        Ok(answer["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|j| {
                Some((
                    j["id"].as_str()?.to_owned(),
                    j["training_file"].as_str()?.to_owned(),
                ))
            })
            .collect())
    }

    pub fn job(&self, id: &str) -> Result<Job, ApiError> {
        let answer = self.get("job status", &format!("/fine-tunes/{id}"))?;
        Job::parse(answer).map_err(|e| self.fail("job status", e))
    }

    pub fn events(&self, id: &str) -> Result<Vec<JobEvent>, ApiError> {
        let answer = self.get("job events", &format!("/fine-tunes/{id}/events"))?;
        Ok(answer["data"]
            .as_array()
            .map(|events| {
                events
                    .iter()
                    .map(|e| JobEvent {
                        created_at: match &e["created_at"] {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        },
                        message: e["message"].as_str().unwrap_or("").to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    pub fn cancel(&self, id: &str) -> Result<Job, ApiError> {
        let answer = self.post_json(
            "job cancel",
            &format!("/fine-tunes/{id}/cancel"),
            &json!({}),
            false,
        )?;
        Job::parse(answer).map_err(|e| self.fail("job cancel", e))
    }

    /// Polls the job until it finishes, waiting longer each time, and passes on every event
    /// and status change once. A status or event call that keeps failing ends the wait with
    /// the error (the job goes on at Together; a re-run picks it up again).
    pub fn wait(
        &self,
        id: &str,
        on_status: &mut dyn FnMut(&Job),
        on_event: &mut dyn FnMut(&JobEvent),
    ) -> Result<Job, ApiError> {
        let mut seen_events = 0;
        let mut last_status = String::new();
        let mut delay = self.first_poll;
        loop {
            let job = self.job(id)?;
            let events = self.events(id)?;
            for e in events.iter().skip(seen_events) {
                on_event(e);
            }
            seen_events = seen_events.max(events.len());
            if job.status != last_status {
                last_status = job.status.clone();
                on_status(&job);
            }
            if job.is_finished() {
                return Ok(job);
            }
            std::thread::sleep(delay);
            delay = (delay + delay / 2).min(self.max_poll);
        }
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// SHA-256 of a file, hex.
pub fn file_sha256(path: &Path) -> Result<String, ApiError> {
    let bytes =
        std::fs::read(path).map_err(|e| ApiError::Config(format!("{}: {e}", path.display())))?;
    Ok(sha256(&bytes).iter().map(|b| format!("{b:02x}")).collect())
}

/// Runs (or resumes) a job for `training_file`, remembering it in `state_path`: the file is
/// uploaded and the job created only when the state does not already hold them for the same
/// file and settings. Returns the finished job.
pub fn train(
    client: &Together,
    training_file: &Path,
    spec: &JobSpec,
    state_path: &Path,
    on_status: &mut dyn FnMut(&Job),
    on_event: &mut dyn FnMut(&JobEvent),
) -> Result<Job, ApiError> {
    let file_sha256 = file_sha256(training_file)?;
    let mut state = match std::fs::read_to_string(state_path) {
        Ok(text) => {
            let s: JobState = serde_json::from_str(&text)
                .map_err(|e| ApiError::Config(format!("{}: {e}", state_path.display())))?;
            if s.file_sha256 != file_sha256 || s.spec != *spec {
                return Err(ApiError::Config(format!(
                    "{}: a job for another training file or other settings is recorded here; use \
                     another output folder",
                    state_path.display()
                )));
            }
            s
        }
        Err(_) => JobState {
            file_sha256,
            file_id: None,
            spec: spec.clone(),
            job_id: None,
            output_name: None,
            status: None,
        },
    };
    let save = |state: &JobState| -> Result<(), ApiError> {
        let tmp = state_path.with_extension("json.partial");
        std::fs::write(&tmp, serde_json::to_string_pretty(state).expect("json"))
            .and_then(|()| std::fs::rename(&tmp, state_path))
            .map_err(|e| ApiError::Storage(format!("{}: {e}", state_path.display())))
    };
    if state.file_id.is_none() {
        state.file_id = Some(client.upload(training_file)?);
        save(&state)?;
    }
    if state.job_id.is_none() {
        let file_id = state.file_id.clone().expect("uploaded");
        // A run killed between creating the job and recording it left a job on this file:
        // carry on with it instead of paying for a second one.
        let earlier = client
            .list()?
            .into_iter()
            .find(|(_, file)| *file == file_id)
            .map(|(id, _)| id);
        let job = match earlier {
            Some(id) => client.job(&id)?,
            None => client.create(&file_id, spec)?,
        };
        state.job_id = Some(job.id.clone());
        state.status = Some(job.status.clone());
        save(&state)?;
    }
    let id = state.job_id.clone().expect("created");
    let job = client.wait(&id, on_status, on_event)?;
    state.status = Some(job.status.clone());
    state.output_name = job.output_name.clone();
    save(&state)?;
    Ok(job)
}
