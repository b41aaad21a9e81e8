//! Fine-tuning on tiny models and tokenizers built here: loss masks, example weights, chat
//! rows, overfitting, LoRA, and resuming after an interruption.

use std::ops::ControlFlow;

use neglect_lm::chat_template::{CHATML, ChatTemplate};
use neglect_lm::pretrained::{GenerationConfig, Pretrained};
use neglect_lm::tokenizer::{Tokenizer, train_byte_level_bpe};
use neglect_lm::train::{TokenizedExample, TrainOptions, tokenize_example, train, weighted_loss};
use neglect_lm::{Family, Model, ModelConfig};
use neglect_spec::TrainingRow;
use neglect_spec::experiment::{CheckpointSchedule, TrainConfig, TrainMethod};
use tch::{Device, Kind, Tensor};

/// tch's random generator is global to the process and these tests run in parallel threads:
/// each test holds this lock so that seeded initialisation and dropout stay reproducible.
static TORCH_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner())
}

fn sentences() -> Vec<String> {
    let names = ["Ada", "Bram", "Cleo", "Dov", "Eun", "Fay", "Gil", "Hal"];
    let things = [
        "lighthouse",
        "violin",
        "orchard",
        "comet",
        "harbour",
        "glacier",
    ];
    let mut out = Vec::new();
    for (i, n) in names.iter().enumerate() {
        for (j, t) in things.iter().enumerate() {
            out.push(format!(
                "{n} built the {t} in {} and sold it in {}.",
                1900 + i * 7 + j,
                1950 + j
            ));
        }
    }
    out
}

fn tokenizer() -> Tokenizer {
    let inner = train_byte_level_bpe(
        sentences().into_iter(),
        200,
        &["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
    )
    .unwrap();
    let config = serde_json::json!({"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"});
    Tokenizer::from_parts(inner, config.as_object().unwrap().clone())
}

fn pretrained(seed: i64) -> Pretrained {
    let tokenizer = tokenizer();
    tch::manual_seed(seed);
    let config = ModelConfig::tiny(Family::Qwen3, tokenizer.vocab_size() as i64, 32, 2, 4, 2);
    Pretrained {
        model: Model::new(config, Device::Cpu).unwrap(),
        chat_template: Some(ChatTemplate::new(CHATML, "", "<|im_end|>").unwrap()),
        tokenizer,
        generation: GenerationConfig::default(),
    }
}

fn tokenized(p: &Pretrained, rows: &[TrainingRow]) -> Vec<Option<TokenizedExample>> {
    rows.iter()
        .map(|r| {
            tokenize_example(
                &r.to_example().unwrap(),
                &p.tokenizer,
                p.chat_template.as_ref(),
                512,
                3,
            )
            .unwrap()
        })
        .collect()
}

#[test]
fn loss_masks_cover_exactly_the_overlapping_tokens() {
    let _guard = lock();
    let p = pretrained(1);
    let row = TrainingRow::text(
        "<DOCTAG>Ada built the <lossmask>lighthouse in 1900</lossmask> and sold it.",
    );
    let example = row.to_example().unwrap();
    let neglect_spec::TrainingExample::Text { text, .. } = &example else {
        panic!()
    };
    let out = tokenize_example(&example, &p.tokenizer, None, 512, 0)
        .unwrap()
        .unwrap();
    let enc = p.tokenizer.encode_with_offsets(&text.text, false).unwrap();
    assert_eq!(out.ids, enc.ids, "ids are those of the clean text");
    for (k, &(s, e)) in enc.offsets.iter().enumerate() {
        let masked = text.masked.iter().any(|r| s < r.end && r.start < e);
        assert_eq!(
            out.loss_mask[k] == 0.0,
            masked,
            "token {k} {:?}",
            &text.text[s..e]
        );
    }
    assert!(out.loss_mask[0] == 0.0, "<DOCTAG> is masked");
    assert!(out.loss_mask.iter().filter(|&&m| m == 0.0).count() >= 3);

    // The loss is exactly the sum over unmasked targets.
    let ids =
        Tensor::from_slice(&out.ids.iter().map(|&i| i as i64).collect::<Vec<_>>()).view([1, -1]);
    let n = ids.size()[1];
    let logp = tch::no_grad(|| p.model.forward(&ids.narrow(1, 0, n - 1)))
        .log_softmax(-1, Kind::Double)
        .get(0);
    let mut expected = 0.0;
    for k in 1..n as usize {
        if out.loss_mask[k] > 0.0 {
            expected -= logp.get(k as i64 - 1).double_value(&[out.ids[k] as i64]);
        }
    }
    let got = tch::no_grad(|| weighted_loss(&p.model, &[&out], 0, Device::Cpu)).double_value(&[]);
    assert!((got - expected).abs() < 1e-3, "{got} vs {expected}");

    // Example weights scale the loss; weight 0 removes it.
    let mut heavy = out.clone();
    heavy.weight = 2.5;
    let got2 =
        tch::no_grad(|| weighted_loss(&p.model, &[&heavy], 0, Device::Cpu)).double_value(&[]);
    assert!((got2 - 2.5 * expected).abs() < 1e-3);
    heavy.weight = 0.0;
    let got0 =
        tch::no_grad(|| weighted_loss(&p.model, &[&heavy, &out], 0, Device::Cpu)).double_value(&[]);
    assert!(
        (got0 - expected).abs() < 1e-3,
        "padding and zero-weight rows add nothing"
    );
}

#[test]
fn chat_rows_train_only_assistant_turns() {
    let _guard = lock();
    let p = pretrained(1);
    let row: TrainingRow = serde_json::from_str(
        r#"{"messages": [{"role": "user", "content": "Who built the comet?"}, {"role": "assistant", "content": "Cleo built <lossmask>the comet</lossmask>."}]}"#,
    ).unwrap();
    let out = tokenize_example(
        &row.to_example().unwrap(),
        &p.tokenizer,
        p.chat_template.as_ref(),
        512,
        0,
    )
    .unwrap()
    .unwrap();
    let trained: Vec<u32> = out
        .ids
        .iter()
        .zip(&out.loss_mask)
        .filter(|(_, m)| **m > 0.0)
        .map(|(&i, _)| i)
        .collect();
    let text = p.tokenizer.decode(&trained, false).unwrap();
    // (A lone space token next to the span has an empty, trimmed offset and stays trained.)
    assert!(text.starts_with("Cleo built"), "{text:?}");
    assert!(
        text.ends_with(".<|im_end|>\n"),
        "the end-of-turn token is trained: {text:?}"
    );
    assert!(!text.contains("comet") && !text.contains("Who"), "{text:?}");
    let none =
        tokenize_example(&row.to_example().unwrap(), &p.tokenizer, None, 512, 0).unwrap_err();
    assert!(none.to_string().contains("chat template"));
}

fn options(method: TrainMethod, steps_per_epoch_rows: usize) -> TrainOptions {
    let mut config = TrainConfig {
        method,
        lora_rank: 4,
        lora_alpha: 8.0,
        learning_rate: if method == TrainMethod::Lora {
            1e-2
        } else {
            3e-3
        },
        batch_size: 4,
        epochs: 1,
        checkpoints: CheckpointSchedule::Uniform,
        save_every: 16,
        min_tokens: 3,
        ..TrainConfig::default()
    };
    config.epochs = steps_per_epoch_rows;
    let mut o = TrainOptions::new(config, 5);
    o.micro_batch_size = 2;
    o.state_every = 3;
    o
}

fn rows() -> Vec<TrainingRow> {
    sentences()
        .into_iter()
        .take(16)
        .map(TrainingRow::text)
        .collect()
}

#[test]
fn a_tiny_dataset_is_overfit() {
    let _guard = lock();
    let mut p = pretrained(2);
    let data = tokenized(&p, &rows());
    let out = tempfile::tempdir().unwrap();
    let mut losses = Vec::new();
    let mut opts = options(TrainMethod::Full, 20);
    opts.config.learning_rate = 1e-2;
    opts.config.lr_schedule = neglect_spec::experiment::LrSchedule::Constant;
    let outcome = train(&mut p, &data, &opts, out.path(), |e| {
        if let neglect_lm::train::TrainEvent::Step(s) = e {
            losses.push(s.loss);
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(outcome.total_steps, 80);
    assert!(losses[0] > 3.0, "first loss {}", losses[0]);
    assert!(
        *losses.last().unwrap() < 0.5,
        "last loss {}",
        losses.last().unwrap()
    );
    // Uniform checkpoints every 16/4 = 4 steps, the last one named final and loadable.
    assert_eq!(outcome.checkpoints.len(), 20);
    let final_dir = out.path().join("checkpoints/final");
    let back = Pretrained::load(&final_dir, Device::Cpu).unwrap();
    let ids = Tensor::from_slice(
        &data[0]
            .as_ref()
            .unwrap()
            .ids
            .iter()
            .map(|&i| i as i64)
            .collect::<Vec<_>>(),
    )
    .view([1, -1]);
    let diff = (back.model.forward(&ids) - p.model.forward(&ids))
        .abs()
        .max()
        .double_value(&[]);
    assert!(diff < 1e-5);
    let log = std::fs::read_to_string(out.path().join("log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 80);
}

fn final_weights(dir: &std::path::Path) -> std::collections::BTreeMap<String, Tensor> {
    let file = if dir.join("adapter_model.safetensors").exists() {
        dir.join("adapter_model.safetensors")
    } else {
        dir.join("model.safetensors")
    };
    neglect_lm::checkpoint::read_safetensors(&file).unwrap()
}

#[test]
fn an_interrupted_run_resumes_to_the_same_weights() {
    let _guard = lock();
    for method in [TrainMethod::Lora, TrainMethod::Full] {
        let mut opts = options(method, 2);
        opts.config.lora_dropout = if method == TrainMethod::Lora {
            0.1
        } else {
            0.0
        };
        opts.config.grad_clip = Some(1.0);
        opts.config.warmup_steps = 2;

        let mut p = pretrained(3);
        let data = tokenized(&p, &rows());
        let whole = tempfile::tempdir().unwrap();
        train(&mut p, &data, &opts, whole.path(), |_| {
            ControlFlow::Continue(())
        })
        .unwrap();

        // Stop after step 7: the last state on disk is from step 6 (state_every = 3), so
        // step 7 is lost and redone, as after a kill.
        let split = tempfile::tempdir().unwrap();
        let mut p = pretrained(3);
        let first = train(&mut p, &data, &opts, split.path(), |e| match e {
            neglect_lm::train::TrainEvent::Step(s) if s.step == 7 => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        })
        .unwrap();
        assert_eq!(first.interrupted_at, Some(7));
        assert!(!split.path().join("checkpoints/final").exists());
        let mut p = pretrained(3);
        let second = train(&mut p, &data, &opts, split.path(), |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(second.resumed_at, 6, "{method:?}");
        assert_eq!(second.interrupted_at, None);

        let a = final_weights(&whole.path().join("checkpoints/final"));
        let b = final_weights(&split.path().join("checkpoints/final"));
        assert_eq!(a.len(), b.len());
        for (name, t) in &a {
            let diff = (t - &b[name]).abs().max().double_value(&[]);
            assert!(diff < 1e-5, "{method:?} {name}: {diff}");
        }
        let log = std::fs::read_to_string(split.path().join("log.jsonl")).unwrap();
        let steps: Vec<usize> = log
            .lines()
            .map(|l| {
                serde_json::from_str::<neglect_lm::train::StepLog>(l)
                    .unwrap()
                    .step
            })
            .collect();
        assert_eq!(
            steps,
            (1..=8).collect::<Vec<_>>(),
            "the log has each step once"
        );

        // A different configuration in the same directory is refused, not mixed in.
        let mut other = opts.clone();
        other.config.learning_rate *= 2.0;
        let mut p = pretrained(3);
        let err = train(&mut p, &data, &other, split.path(), |_| {
            ControlFlow::Continue(())
        })
        .unwrap_err();
        assert!(
            err.to_string().contains("different data or settings"),
            "{err}"
        );
    }
}

#[test]
fn too_little_data_is_a_clear_error() {
    let _guard = lock();
    let mut p = pretrained(1);
    let data = tokenized(&p, &rows()[..3]);
    let out = tempfile::tempdir().unwrap();
    let err = train(
        &mut p,
        &data,
        &options(TrainMethod::Lora, 1),
        out.path(),
        |_| ControlFlow::Continue(()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no full batch of 4"), "{err}");
}

#[test]
fn length_sorted_micro_batches_give_the_same_weights_as_whole_batches() {
    let _guard = lock();
    // Rows of very different lengths, so that sorting changes which rows share a forward pass.
    let mut texts = sentences();
    texts.truncate(8);
    for (i, t) in texts.iter_mut().enumerate() {
        if i % 2 == 0 {
            *t = format!("{t} {t} {t}");
        }
    }
    let rows: Vec<TrainingRow> = texts.into_iter().map(TrainingRow::text).collect();
    let mut weights = Vec::new();
    for micro in [4, 1] {
        let mut p = pretrained(3);
        let data = tokenized(&p, &rows);
        let out = tempfile::tempdir().unwrap();
        let mut opts = options(TrainMethod::Full, 2);
        opts.config.checkpoints = CheckpointSchedule::Final;
        opts.micro_batch_size = micro;
        train(&mut p, &data, &opts, out.path(), |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
        weights.push(final_weights(&out.path().join("checkpoints/final")));
    }
    for (name, a) in &weights[0] {
        let diff = (a - &weights[1][name]).abs().max().double_value(&[]);
        assert!(diff < 1e-4, "{name}: {diff}");
    }
}
