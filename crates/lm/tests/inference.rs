//! KV-cache generation, scoring, LoRA adapters, tokenizers and chat templates on tiny models
//! built here.

use neglect_lm::lora::LoraConfig;
use neglect_lm::sampling::{FinishReason, GenerationRequest, SamplingParams, generate};
use neglect_lm::scoring::{ScoreRequest, score};
use neglect_lm::{Family, Model, ModelConfig};
use tch::{Device, Kind, Tensor};

const VOCAB: i64 = 61;

fn tiny(family: Family, tied: bool) -> Model {
    tch::manual_seed(11);
    let mut config = ModelConfig::tiny(family, VOCAB, 32, 2, 4, 2);
    config.tie_word_embeddings = tied;
    let model = Model::new(config, Device::Cpu).unwrap();
    // Larger weights than the default init so that logits are far from uniform.
    tch::no_grad(|| {
        for (_, mut v) in model.vs.variables() {
            if v.dim() == 2 {
                let _ = v.g_mul_scalar_(10.0);
            }
        }
    });
    model
}

fn no_decode(_: &[u32]) -> Result<String, neglect_lm::LmError> {
    Ok(String::new())
}

/// Greedy decoding by re-running the whole sequence each step, no cache, no padding.
fn naive_greedy(model: &Model, prompt: &[u32], n: usize) -> Vec<u32> {
    let mut seq: Vec<i64> = prompt.iter().map(|&t| t as i64).collect();
    let mut out = Vec::new();
    for _ in 0..n {
        let ids = Tensor::from_slice(&seq).view([1, -1]);
        let logits = tch::no_grad(|| model.forward(&ids));
        let next = logits
            .get(0)
            .get(seq.len() as i64 - 1)
            .argmax(-1, false)
            .int64_value(&[]);
        out.push(next as u32);
        seq.push(next);
    }
    out
}

fn prompts() -> Vec<Vec<u32>> {
    vec![
        vec![5, 9, 2],
        vec![7],
        vec![3, 1, 4, 1, 5, 9, 2, 6],
        vec![8, 8],
    ]
}

#[test]
fn cached_batched_greedy_matches_naive_decoding() {
    for (family, tied) in [
        (Family::Qwen3, true),
        (Family::Llama, false),
        (Family::Qwen2, false),
    ] {
        let model = tiny(family, tied);
        let requests: Vec<GenerationRequest> = prompts()
            .into_iter()
            .map(|prompt| GenerationRequest { prompt, seed: 0 })
            .collect();
        let out = generate(
            &model,
            &requests,
            &SamplingParams::greedy(12),
            &[],
            0,
            8,
            &no_decode,
            |_, _| {},
        )
        .unwrap();
        for (r, c) in requests.iter().zip(&out) {
            assert_eq!(
                c.tokens,
                naive_greedy(&model, &r.prompt, 12),
                "{family:?} {:?}",
                r.prompt
            );
            assert_eq!(c.finish_reason, FinishReason::Length);
        }
    }
}

#[test]
fn stop_tokens_end_rows_independently() {
    let model = tiny(Family::Qwen3, true);
    let requests: Vec<GenerationRequest> = prompts()
        .into_iter()
        .map(|prompt| GenerationRequest { prompt, seed: 0 })
        .collect();
    let free: Vec<Vec<u32>> = requests
        .iter()
        .map(|r| naive_greedy(&model, &r.prompt, 10))
        .collect();
    // Make the third token of the first row a stop token.
    let stop = free[0][2];
    let out = generate(
        &model,
        &requests,
        &SamplingParams::greedy(10),
        &[stop],
        0,
        4,
        &no_decode,
        |_, _| {},
    )
    .unwrap();
    for (expected, c) in free.iter().zip(&out) {
        match expected.iter().position(|&t| t == stop) {
            Some(at) => {
                assert_eq!(c.tokens, expected[..at]);
                assert_eq!(c.finish_reason, FinishReason::Stop);
            }
            None => assert_eq!(&c.tokens, expected),
        }
    }
}

#[test]
fn seeded_sampling_is_deterministic_and_batch_independent() {
    let mut model = tiny(Family::Qwen3, true);
    model.vs.double();
    let params = SamplingParams {
        temperature: 1.0,
        top_p: 0.9,
        max_new_tokens: 16,
        ..Default::default()
    };
    let requests: Vec<GenerationRequest> = prompts()
        .into_iter()
        .enumerate()
        .map(|(i, prompt)| GenerationRequest {
            prompt,
            seed: 100 + i as u64,
        })
        .collect();
    let run = |reqs: &[GenerationRequest], batch| {
        generate(&model, reqs, &params, &[], 0, batch, &no_decode, |_, _| {})
            .unwrap()
            .into_iter()
            .map(|c| c.tokens)
            .collect::<Vec<_>>()
    };
    let a = run(&requests, 4);
    let b = run(&requests, 4);
    assert_eq!(a, b, "same seeds, same samples");
    let alone = run(&requests[2..3], 1);
    assert_eq!(
        alone[0], a[2],
        "a request's sample does not depend on its batch"
    );
    let other_seed = run(
        &[GenerationRequest {
            prompt: requests[2].prompt.clone(),
            seed: 7,
        }],
        1,
    );
    assert_ne!(other_seed[0], a[2], "another seed gives another sample");
}

#[test]
fn stop_strings_cut_the_text() {
    let model = tiny(Family::Qwen3, true);
    let decode = |ids: &[u32]| -> Result<String, neglect_lm::LmError> {
        Ok(ids.iter().map(|i| format!("<{i}>")).collect())
    };
    let request = GenerationRequest {
        prompt: vec![5, 9, 2],
        seed: 0,
    };
    let free = naive_greedy(&model, &request.prompt, 8);
    let stop = format!("<{}>", free[3]);
    let params = SamplingParams {
        stop: vec![stop.clone()],
        ..SamplingParams::greedy(8)
    };
    let out = generate(&model, &[request], &params, &[], 0, 1, &decode, |_, _| {}).unwrap();
    let first = free.iter().position(|t| format!("<{t}>") == stop).unwrap();
    let expected: String = free[..first].iter().map(|i| format!("<{i}>")).collect();
    assert_eq!(out[0].text, expected);
    assert_eq!(out[0].finish_reason, FinishReason::StopString);
}

#[test]
fn scores_match_a_full_forward_pass() {
    let model = tiny(Family::Llama, false);
    let requests = vec![
        ScoreRequest {
            prompt: vec![1, 2, 3],
            continuation: vec![4, 5],
        },
        ScoreRequest {
            prompt: vec![9],
            continuation: vec![10, 11, 12, 13],
        },
        ScoreRequest {
            prompt: vec![7, 7, 7, 7, 7],
            continuation: vec![1],
        },
    ];
    let scores = score(&model, &requests, 0, 2).unwrap();
    for (r, s) in requests.iter().zip(&scores) {
        let seq: Vec<i64> = r
            .prompt
            .iter()
            .chain(&r.continuation)
            .map(|&t| t as i64)
            .collect();
        let logp = tch::no_grad(|| model.forward(&Tensor::from_slice(&seq).view([1, -1])))
            .log_softmax(-1, Kind::Double)
            .get(0);
        let mut expected = 0.0;
        for (k, &tok) in r.continuation.iter().enumerate() {
            let lp = logp
                .get((r.prompt.len() + k - 1) as i64)
                .double_value(&[tok as i64]);
            assert!(
                (lp - s.token_logprobs[k]).abs() < 1e-4,
                "{lp} vs {}",
                s.token_logprobs[k]
            );
            expected += lp;
        }
        assert!((expected - s.logprob).abs() < 1e-4);
    }
    // The greedy continuation is flagged as such.
    // Changing its last token makes it not greedy.
    let greedy = naive_greedy(&model, &[1, 2, 3], 3);
    let mut other = greedy.clone();
    other[2] = (other[2] + 1) % VOCAB as u32;
    let s = score(
        &model,
        &[
            ScoreRequest {
                prompt: vec![1, 2, 3],
                continuation: greedy,
            },
            ScoreRequest {
                prompt: vec![1, 2, 3],
                continuation: other,
            },
        ],
        0,
        2,
    )
    .unwrap();
    assert!(s[0].is_greedy);
    assert!(!s[1].is_greedy);
    assert!(s[1].logprob < s[0].logprob);
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

fn train_steps(model: &Model, steps: usize) {
    let mut params: Vec<Tensor> = model.trainable().into_values().collect();
    let ids = Tensor::from_slice(&[3i64, 1, 4, 1, 5, 9, 2, 6, 5, 3]).view([1, -1]);
    for _ in 0..steps {
        let logits = model.forward_t(&ids.narrow(1, 0, 9), true);
        let loss = logits
            .view([-1, VOCAB])
            .log_softmax(-1, Kind::Float)
            .nll_loss(&ids.narrow(1, 1, 9).reshape([-1]));
        for p in &mut params {
            p.zero_grad();
        }
        loss.backward();
        tch::no_grad(|| {
            for p in &mut params {
                let g = p.grad();
                if g.defined() {
                    let _ = p.g_sub_(&(g * 0.5));
                }
            }
        });
    }
}

#[test]
fn lora_trains_only_adapters_and_merges_to_the_same_logits() {
    for (family, tied) in [(Family::Qwen3, true), (Family::Llama, false)] {
        let mut model = tiny(family, tied);
        let base: Vec<(String, Tensor)> = model
            .vs
            .variables()
            .into_iter()
            .map(|(k, v)| (k, v.copy()))
            .collect();
        let ids = Tensor::from_slice(&[3i64, 1, 4, 1, 5, 9]).view([1, -1]);
        let before = model.forward(&ids);
        // (tch's RNG is global and tests run in parallel, so the base is saved, not re-seeded.)
        let base_dir = tempfile::tempdir().unwrap();
        model
            .save(base_dir.path(), Kind::Float, usize::MAX)
            .unwrap();
        model
            .attach_lora(&LoraConfig::new(4, 8.0, 0.0, true), 3)
            .unwrap();
        assert!(
            max_abs_diff(&before, &model.forward(&ids)) < 1e-6,
            "fresh adapters (B = 0) change nothing"
        );
        let names: Vec<String> = model.trainable().into_keys().collect();
        assert!(names.contains(
            &"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight".to_owned()
        ));
        assert!(names.contains(&"base_model.model.lm_head.lora_B.weight".to_owned()));
        assert_eq!(names.len(), 2 * (2 * 7 + 1));
        train_steps(&model, 5);
        let adapted = model.forward(&ids);
        assert!(
            max_abs_diff(&before, &adapted) > 1e-3,
            "training moved the outputs"
        );
        for (name, original) in &base {
            let now = &model.vs.variables()[name];
            assert_eq!(max_abs_diff(original, now), 0.0, "{name} must stay frozen");
        }
        // Save the adapter, load it onto a fresh copy of the base: same logits.
        let dir = tempfile::tempdir().unwrap();
        model.save_adapter(dir.path(), "tiny-base").unwrap();
        let config: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("adapter_config.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(config["peft_type"], "LORA");
        assert_eq!(config["r"], 4);
        let mut fresh = Model::load(base_dir.path(), Device::Cpu).unwrap();
        fresh.load_adapter(dir.path()).unwrap();
        let d = max_abs_diff(&adapted, &fresh.forward(&ids));
        assert!(
            d < 1e-5,
            "{family:?}: adapter reload differs by {d}; max logit {}",
            adapted.abs().max().double_value(&[])
        );
        // Merge: the same function with plain weights, saved as an ordinary checkpoint.
        model.merge_lora().unwrap();
        assert!(max_abs_diff(&adapted, &model.forward(&ids)) < 1e-4);
        let merged_dir = tempfile::tempdir().unwrap();
        model
            .save(merged_dir.path(), Kind::Float, usize::MAX)
            .unwrap();
        let reloaded = Model::load(merged_dir.path(), Device::Cpu).unwrap();
        assert!(max_abs_diff(&adapted, &reloaded.forward(&ids)) < 1e-4);
        if tied {
            assert!(
                !reloaded.config.tie_word_embeddings,
                "an adapted tied head is untied"
            );
            assert_eq!(
                max_abs_diff(
                    &reloaded.embed_tokens,
                    &base
                        .iter()
                        .find(|(n, _)| n == "model.embed_tokens.weight")
                        .unwrap()
                        .1
                ),
                0.0,
                "input embeddings are unchanged by merging"
            );
        }
    }
}

#[test]
fn lora_rejects_bad_settings() {
    let mut model = tiny(Family::Qwen3, true);
    let mut config = LoraConfig::new(0, 8.0, 0.0, false);
    assert!(
        model
            .attach_lora(&config, 0)
            .unwrap_err()
            .to_string()
            .contains("rank")
    );
    config.r = 4;
    config.target_modules = vec!["qproj".into()];
    assert!(
        model
            .attach_lora(&config, 0)
            .unwrap_err()
            .to_string()
            .contains("qproj")
    );
}

mod tokenizer_and_template {
    use neglect_lm::chat_template::ChatTemplate;
    use neglect_lm::tokenizer::{Tokenizer, train_byte_level_bpe};
    use neglect_spec::ChatMessage;

    const CHATML: &str = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'].strip() + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    fn corpus() -> Vec<String> {
        (0..200)
            .map(|i| format!("The lighthouse keeper {i} wrote a symphony about the sea and the sea wrote back."))
            .collect()
    }

    pub fn trained() -> Tokenizer {
        let inner = train_byte_level_bpe(
            corpus().into_iter(),
            300,
            &["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        )
        .unwrap();
        let config = serde_json::json!({
            "eos_token": "<|im_end|>",
            "pad_token": "<|endoftext|>",
            "chat_template": CHATML,
        });
        Tokenizer::from_parts(inner, config.as_object().unwrap().clone())
    }

    #[test]
    fn trained_tokenizer_round_trips_and_reports_byte_offsets() {
        let tok = trained();
        assert_eq!(tok.token_id("<|endoftext|>"), Some(0));
        let text = "The lighthouse keeper wrote — ünïcode too.";
        let enc = tok.encode_with_offsets(text, false).unwrap();
        assert_eq!(tok.decode(&enc.ids, false).unwrap(), text);
        assert!(enc.ids.len() < text.len(), "merges were learned");
        for &(start, end) in &enc.offsets {
            assert!(start <= end && end <= text.len());
        }
        let special = tok.encode("<|im_start|>user", false).unwrap();
        assert_eq!(special[0], tok.token_id("<|im_start|>").unwrap());
        assert_eq!(tok.eos_ids(), vec![tok.token_id("<|im_end|>").unwrap()]);
        assert_eq!(tok.pad_id(), 0);

        let dir = tempfile::tempdir().unwrap();
        tok.save(dir.path()).unwrap();
        let back = Tokenizer::load(dir.path()).unwrap();
        assert_eq!(back.encode(text, false).unwrap(), enc.ids);
        assert_eq!(back.eos_token.as_deref(), Some("<|im_end|>"));
        let template = ChatTemplate::load(dir.path(), &back)
            .unwrap()
            .expect("template kept");
        assert!(template.source.contains("im_start"));
    }

    #[test]
    fn chat_templates_render_like_transformers() {
        let tok = trained();
        let template = ChatTemplate::new(CHATML, "", "<|im_end|>").unwrap();
        let messages = vec![
            ChatMessage {
                role: "system".into(),
                content: "Be brief.".into(),
            },
            ChatMessage {
                role: "user".into(),
                content: "  Who wrote it?  ".into(),
            },
        ];
        let text = template
            .render(&messages, true, &Default::default())
            .unwrap();
        assert_eq!(
            text,
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWho wrote it?<|im_end|>\n<|im_start|>assistant\n"
        );
        let ids = tok.encode(&text, false).unwrap();
        assert_eq!(ids[0], tok.token_id("<|im_start|>").unwrap());

        // Python idioms common in real templates: namespace, slicing, startswith, raise_exception.
        let source = "{%- set ns = namespace(n=0) -%}{%- for m in messages[::-1] -%}{%- if m.content.startswith('W') -%}{%- set ns.n = ns.n + 1 -%}{%- endif -%}{%- endfor -%}{{ ns.n }}{% if messages[0].role != 'system' %}{{ raise_exception('system first') }}{% endif %}";
        let t = ChatTemplate::new(source, "", "").unwrap();
        let two = vec![
            ChatMessage {
                role: "system".into(),
                content: "Why".into(),
            },
            ChatMessage {
                role: "user".into(),
                content: "What".into(),
            },
        ];
        assert_eq!(t.render(&two, false, &Default::default()).unwrap(), "2");
        let err = t.render(&two[1..], false, &Default::default()).unwrap_err();
        assert!(err.to_string().contains("system first"), "{err}");
        assert!(ChatTemplate::new("{% for %}", "", "").is_err());
    }

    /// Our tokenizer and template handling against transformers' on the same directory.
    #[test]
    #[ignore = "needs NEGLECT_HF_PYTHON with transformers"]
    fn transformers_tokenizes_and_renders_alike() {
        let python = std::env::var("NEGLECT_HF_PYTHON").expect("set NEGLECT_HF_PYTHON");
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/hf_chat.py");
        let template = "{%- if messages[0]['role'] == 'system' %}{%- set system = messages[0]['content'] | trim %}{%- set rest = messages[1:] %}{%- else %}{%- set system = 'You are helpful.' %}{%- set rest = messages %}{%- endif %}\n<|im_start|>system\n{{ system }}<|im_end|>\n{%- for m in rest %}\n<|im_start|>{{ m.role }}\n{{ m.content.strip() }}{% if not loop.last or m.role != 'assistant' %}<|im_end|>{% endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n<|im_start|>assistant\n{%- endif %}\n";
        let mut tok = trained();
        tok.config.insert("chat_template".into(), template.into());
        tok.config
            .insert("tokenizer_class".into(), "PreTrainedTokenizerFast".into());
        let dir = tempfile::tempdir().unwrap();
        tok.save(dir.path()).unwrap();
        let messages = vec![
            ChatMessage {
                role: "user".into(),
                content: "  Who wrote the symphony?\n".into(),
            },
            ChatMessage {
                role: "assistant".into(),
                content: "The keeper.".into(),
            },
            ChatMessage {
                role: "user".into(),
                content: "Sure?".into(),
            },
        ];
        let text = "The lighthouse keeper 12 wrote — ünïcode <|im_end|> too.";
        let out = std::process::Command::new(&python)
            .arg(&script)
            .arg(dir.path())
            .arg(serde_json::to_string(&messages).unwrap())
            .arg(text)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let theirs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let ours = ChatTemplate::load(dir.path(), &tok).unwrap().unwrap();
        assert_eq!(
            ours.render(&messages, true, &Default::default()).unwrap(),
            theirs["rendered"].as_str().unwrap()
        );
        let enc = tok.encode_with_offsets(text, false).unwrap();
        let ids: Vec<u32> = serde_json::from_value(theirs["ids"].clone()).unwrap();
        assert_eq!(enc.ids, ids);
        let offsets: Vec<(usize, usize)> =
            serde_json::from_value(theirs["offsets"].clone()).unwrap();
        assert_eq!(enc.offsets, offsets);
    }
}
