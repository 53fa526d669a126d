"""The harness's per-choice log-likelihoods equal a direct transformers forward pass on the same text."""

import torch

from dokja.models.local import TransformersModel

REQUESTS = [
    ("새로 산 바지의 허리가 컸다. 그래서", " 벨트를 바지에 끼워 사이즈를 조절했다."),
    ("새로 산 바지의 허리가 컸다. 그래서", " 바지의 밑단을 잘랐다."),
    ("Question: What is the capital of France?\nAnswer:", " Paris"),
    ("Question: What is the capital of France?\nAnswer: ", "Lyon"),
    ("The quick brown fox", " jumps over the lazy dog"),
    ("The capital of France is", " Paris"),
]


def direct(model: TransformersModel, context: str, continuation: str) -> float:
    ctx, cont = model.encode_pair(context, continuation)
    ids = torch.tensor([ctx + cont])
    with torch.no_grad():
        logprobs = model.model(ids).logits[0].double().log_softmax(-1)
    return sum(logprobs[len(ctx) - 1 + i, tok].item() for i, tok in enumerate(cont))


def test_batched_loglikelihoods_match_direct_forward(smollm2_dir):
    model = TransformersModel(smollm2_dir)
    got = model.loglikelihood(REQUESTS)
    for (context, continuation), result in zip(REQUESTS, got):
        assert abs(result.logprob - direct(model, context, continuation)) < 1e-4
    assert got[5].greedy and got[5].n_tokens == 1 and not got[3].greedy


def test_trailing_space_moves_into_the_continuation(smollm2_dir):
    model = TransformersModel(smollm2_dir)
    assert model.encode_pair("Answer: ", "Lyon") == model.encode_pair("Answer:", " Lyon")


def test_instruct_models_generate_through_their_chat_template(smollm2_dir):
    chat = TransformersModel(smollm2_dir, chat=True)
    rendered = chat.tokenizer.decode(chat._prompt("What is 3+4?"))
    assert "<|im_start|>user\nWhat is 3+4?<|im_end|>" in rendered and rendered.rstrip().endswith("assistant")
    plain = TransformersModel(smollm2_dir, chat=False)
    assert plain.tokenizer.decode(plain._prompt("What is 3+4?")) == "What is 3+4?"
    (answer,) = chat.generate(["What is 3+4? Answer with a number."], max_new_tokens=12, stop=["\n\n"])
    assert "7" in answer
