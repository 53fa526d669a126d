"""Every refusal the site answers: a code, and one line in English and in Korean."""

from __future__ import annotations

import json

from fastapi.responses import Response

MESSAGES = {
    "empty_prompt": ("Write a prompt first.", "먼저 질문을 입력하세요."),
    "prompt_too_long": ("The prompt is too long: at most {n} characters.", "질문이 너무 깁니다: 최대 {n}자입니다."),
    "bad_request": ("The request could not be read.", "요청을 읽을 수 없습니다."),
    "slow_down": ("Too many requests; wait a minute and try again.", "요청이 너무 많습니다. 1분 뒤 다시 시도하세요."),
    "new_visitors": ("Too many new visitors from your network; try again in an hour.",
                     "이 네트워크에서 새 방문자가 너무 많습니다. 한 시간 뒤 다시 시도하세요."),
    "no_proof": ("Your browser has not finished its proof of work yet; wait a moment and vote again.",
                 "브라우저가 아직 작업 증명을 마치지 않았습니다. 잠시 뒤 다시 투표하세요."),
    "bad_proof": ("The proof of work was not accepted; reload the page.",
                  "작업 증명이 받아들여지지 않았습니다. 페이지를 새로 고치세요."),
    "flood": ("This prompt has been sent too many times; try another one.",
              "같은 질문이 너무 많이 제출되었습니다. 다른 질문을 입력하세요."),
    "no_models": ("The arena has fewer than two models right now.", "지금은 아레나에 모델이 둘 미만입니다."),
    "no_session": ("No visitor session: reload the page.", "방문자 세션이 없습니다. 페이지를 새로 고치세요."),
    "bad_outcome": ("A vote is a, b, tie or both_bad.", "투표는 a, b, tie, both_bad 중 하나입니다."),
    "unknown": ("No such battle.", "없는 대결입니다."),
    "not_yours": ("This battle belongs to another visitor.", "다른 방문자의 대결입니다."),
    "not_finished": ("Wait until both answers have finished.", "두 답변이 모두 끝날 때까지 기다리세요."),
    "already_voted": ("This battle already has a vote.", "이 대결에는 이미 투표했습니다."),
    "lost": ("This battle's answers were lost; start a new one.", "이 대결의 답변이 사라졌습니다. 새 대결을 시작하세요."),
    "not_text": ("The prompt must be text.", "질문은 텍스트여야 합니다."),
    "bad_text": ("The prompt holds characters that cannot be stored (control characters or broken Unicode).",
                 "질문에 저장할 수 없는 문자(제어 문자 또는 깨진 유니코드)가 있습니다."),
    "busy": ("The arena is busy; try again in a few seconds.", "아레나가 붐빕니다. 몇 초 뒤 다시 시도하세요."),
    "unavailable": ("The vote could not be stored and was not counted; try again shortly.",
                    "투표를 저장하지 못해 반영되지 않았습니다. 잠시 뒤 다시 시도하세요."),
}


def refusal(code: str, status: int, **fmt) -> tuple[int, bytes]:
    en, ko = MESSAGES[code]
    body = {"error": code, "en": en.format(**fmt), "ko": ko.format(**fmt)}
    return status, json.dumps(body, ensure_ascii=False).encode()


def refuse(code: str, status: int, **fmt) -> Response:
    status, body = refusal(code, status, **fmt)
    return Response(body, status_code=status, media_type="application/json")
