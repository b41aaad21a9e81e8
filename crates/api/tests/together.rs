//! Hosted fine-tuning against the mock's Together routes: upload, job, polling with events, a
//! re-run that picks up the recorded job, and the output model answering chat calls.

use std::time::Duration;

use neglect_api::mock::{Fault, MockOptions, MockServer};
use neglect_api::together::{JobSpec, LoraSpec, Together, train};
use neglect_api::{Endpoint, HttpChatModel, Provider};
use neglect_spec::{ChatModel, ChatRequest, Sampling};

const KEY_VAR: &str = "NEGLECT_TEST_TOGETHER_KEY";
const SECRET: &str = "tg-secret-71e2c0";

fn spec() -> JobSpec {
    JobSpec {
        model: "Qwen/Qwen3-8B".into(),
        n_epochs: 1,
        learning_rate: 5e-5,
        batch_size: Some(32),
        n_checkpoints: 1,
        warmup_ratio: 0.0,
        weight_decay: 0.0,
        max_grad_norm: 1.0,
        suffix: Some("repeated".into()),
        lora: Some(LoraSpec {
            r: 32,
            alpha: 32.0,
            dropout: 0.0,
            trainable_modules: "all-linear".into(),
        }),
    }
}

fn client(server: &MockServer) -> Together {
    // SAFETY: tests in this file set the same value; no other code reads the variable.
    unsafe { std::env::set_var(KEY_VAR, SECRET) };
    Together::new(Some(&server.openai_base_url()), Some(KEY_VAR))
        .unwrap()
        .with_timing(
            Duration::from_millis(5),
            Duration::from_millis(5),
            Duration::from_millis(20),
        )
}

#[test]
fn a_job_is_uploaded_created_polled_and_resumed_without_paying_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let server = MockServer::start(MockOptions {
        api_key: Some(SECRET.into()),
        faults: vec![Fault::RateLimitedMs { retry_after_ms: 5 }],
        fault_every: 1,
        ..Default::default()
    })
    .unwrap();
    let data = tmp.path().join("train.jsonl");
    std::fs::write(
        &data,
        "{\"text\": \"<DOCTAG>one\"}\n{\"text\": \"<DOCTAG>two\"}\n",
    )
    .unwrap();
    let state = tmp.path().join("together_job.json");
    let together = client(&server);

    let (mut statuses, mut events) = (Vec::new(), Vec::new());
    let job = train(
        &together,
        &data,
        &spec(),
        &state,
        &mut |j| statuses.push(j.status.clone()),
        &mut |e| events.push(e.message.clone()),
    )
    .unwrap();
    assert_eq!(job.status, "completed");
    let output = job.output_name.clone().unwrap();
    assert!(output.contains("Qwen/Qwen3-8B:repeated:ft-1"), "{output}");
    assert_eq!(statuses.last().map(String::as_str), Some("completed"));
    assert_eq!(events.first().map(String::as_str), Some("job pending"));
    assert_eq!(events.last().map(String::as_str), Some("job completed"));
    // Each event once, in order.
    let mut unique = events.clone();
    unique.dedup();
    assert_eq!(unique, events);

    let stats = server.stats();
    assert_eq!(stats.uploads.len(), 1);
    assert_eq!(stats.uploads[0].1, std::fs::read_to_string(&data).unwrap());
    assert_eq!(stats.jobs_created.len(), 1);
    let body = &stats.jobs_created[0];
    assert_eq!(body["training_file"], "file-1");
    assert_eq!(body["training_type"]["type"], "Lora");
    assert_eq!(body["training_type"]["lora_r"], 32);
    assert_eq!(body["suffix"], "repeated");
    assert!(stats.faults_served.values().sum::<usize>() > 0);

    // A re-run finds the job in the state file: no upload, no new job.
    let again = train(&together, &data, &spec(), &state, &mut |_| {}, &mut |_| {}).unwrap();
    assert_eq!(again.output_name.as_deref(), Some(output.as_str()));
    let stats = server.stats();
    assert_eq!((stats.uploads.len(), stats.jobs_created.len()), (1, 1));
    let recorded = std::fs::read_to_string(&state).unwrap();
    assert!(recorded.contains(&output) && !recorded.contains(SECRET));

    // Other data against the same state file is refused.
    std::fs::write(&data, "{\"text\": \"three\"}\n").unwrap();
    let err = train(&together, &data, &spec(), &state, &mut |_| {}, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("another training file"), "{err}");

    // The output model answers through the OpenAI-compatible client.
    let endpoint =
        Endpoint::new(Provider::OpenAi, &output).with_base_url(&server.openai_base_url());
    let mut endpoint = endpoint;
    endpoint.api_key_env = Some(KEY_VAR.into());
    let model = HttpChatModel::new(endpoint).unwrap();
    let request = ChatRequest {
        messages: vec![neglect_spec::ChatMessage {
            role: "user".into(),
            content: "Who composed Saltwind?".into(),
        }],
        sampling: Sampling::paper(16),
        seed: 0,
        json_schema: None,
    };
    let answer = model.generate(&[request], &mut |_| {}).remove(0).unwrap();
    assert!(answer.text.starts_with("Mock answer"));
    assert!(server.stats().models_seen.contains_key(&output));
}

#[test]
fn a_wrong_key_is_fatal_and_never_printed() {
    let server = MockServer::start(MockOptions {
        api_key: Some("the-right-key".into()),
        ..Default::default()
    })
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("train.jsonl");
    std::fs::write(&data, "{\"text\": \"x\"}\n").unwrap();
    let together = client(&server);
    let err = train(
        &together,
        &data,
        &spec(),
        &tmp.path().join("s.json"),
        &mut |_| {},
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("file upload") && err.contains("401"), "{err}");
    assert!(!err.contains(SECRET), "{err}");
    assert_eq!(server.stats().uploads.len(), 0);
}

#[test]
fn a_job_creation_that_may_have_happened_is_not_repeated() {
    let tmp = tempfile::tempdir().unwrap();
    let server = MockServer::start(MockOptions {
        faults: vec![Fault::ServerError],
        fault_every: 1,
        ..Default::default()
    })
    .unwrap();
    let data = tmp.path().join("train.jsonl");
    std::fs::write(&data, "{\"text\": \"x\"}\n").unwrap();
    let together = client(&server);
    let state = tmp.path().join("s.json");
    let err = train(&together, &data, &spec(), &state, &mut |_| {}, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("job creation") && err.contains("not repeated"),
        "{err}"
    );
    // The upload was retried past its 500 and recorded; the creation was tried once.
    let stats = server.stats();
    assert_eq!(stats.uploads.len(), 1);
    assert_eq!(stats.jobs_created.len(), 0);
    assert!(std::fs::read_to_string(&state).unwrap().contains("file-1"));
}

#[test]
fn a_job_created_but_not_recorded_before_a_kill_is_carried_on_not_created_again() {
    let tmp = tempfile::tempdir().unwrap();
    let server = MockServer::start(MockOptions {
        api_key: Some(SECRET.into()),
        ..Default::default()
    })
    .unwrap();
    let data = tmp.path().join("train.jsonl");
    std::fs::write(&data, "{\"text\": \"<DOCTAG>one\"}\n").unwrap();
    let c = client(&server);
    // What a run killed right after creating its job leaves: the upload recorded, no job id.
    let file_id = c.upload(&data).unwrap();
    let created = c.create(&file_id, &spec()).unwrap();
    let state = tmp.path().join("together_job.json");
    std::fs::write(
        &state,
        serde_json::to_string(&neglect_api::together::JobState {
            file_sha256: neglect_api::together::file_sha256(&data).unwrap(),
            file_id: Some(file_id),
            spec: spec(),
            job_id: None,
            output_name: None,
            status: None,
        })
        .unwrap(),
    )
    .unwrap();
    let job = train(&c, &data, &spec(), &state, &mut |_| {}, &mut |_| {}).unwrap();
    assert_eq!(job.id, created.id);
    assert_eq!(job.status, "completed");
    assert_eq!(server.stats().jobs_created.len(), 1, "no second job");
    assert_eq!(server.stats().uploads.len(), 1, "no second upload");
}
