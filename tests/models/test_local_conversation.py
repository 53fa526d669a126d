"""The local backend: a conversation rendered with the model's chat template, and answers that carry their
token counts and time, as an endpoint's do."""

from dokja.models.base import Generated
from dokja.models.local import TransformersModel


def test_a_conversation_uses_the_chat_template_and_answers_are_measured(smollm2_dir):
    model = TransformersModel(smollm2_dir)
    turns = [{"role": "user", "content": "What is 2 + 2?"}, {"role": "assistant", "content": "4"},
             {"role": "user", "content": "And 3 + 3?"}]
    rendered = model.tokenizer.apply_chat_template(turns, add_generation_prompt=True, tokenize=False)
    assert model._prompt(turns) == model._encode(rendered, special=False)
    assert model._prompt(turns) != model._prompt("And 3 + 3?")
    greedy, = model.generate([turns], max_new_tokens=5, stop=[])
    sampled, = model.generate([turns], max_new_tokens=5, stop=[], temperature=0.8, seeds=[3])
    for answer in (greedy, sampled):
        assert isinstance(answer, Generated) and answer.seconds > 0
        assert answer.usage["prompt_tokens"] == len(model._prompt(turns))
        assert 1 <= answer.usage["completion_tokens"] <= 5
