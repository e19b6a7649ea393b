"""Pipecat peer for hotline's conversation_latency bench (README.md beside this file).

A Pipecat 1.14 server that answers Twilio Media Streams WebSocket calls at ``/media`` (μ-law
8 kHz) with Pipecat's recommended local voice pipeline and no LLM:

    transport in → Whisper STT (faster-whisper, CTranslate2 Whisper base, CPU int8, English)
      → user aggregator (Silero VAD stop_secs=0.2 + Smart Turn v3.2 on the bundled ONNX,
        interruptions on) → FAQ responder (word overlap over hotline's English demo FAQ)
      → Piper TTS (en_US-joe-medium, in-process) → transport out → assistant aggregator

It greets the caller on connect ("Hello, you are speaking with an AI assistant. How can I help
you?", hotline's English greeting), sends Twilio ``media`` messages back and ``clear`` on an
interruption (Pipecat's TwilioFrameSerializer), and never hangs up through Twilio's REST API
(``auto_hang_up=False``, no credentials).

Models are loaded once per process and shared by the calls (Whisper, Piper voice), as hotline
does; Silero VAD and Smart Turn are made per call, as Pipecat does (both are small ONNX
sessions). ``GET /health`` answers once the models are loaded and warmed.

Run: ``target/pipecat-venv/bin/python benches/peers/pipecat/bot.py --port 8766`` (after
``benches/peers/pipecat/setup.sh``). Options: ``--port`` (or ``PIPECAT_BOT_PORT``),
``--whisper-dir``, ``--voice``, ``--faq``, ``--log-level`` (default INFO: transcripts and
answers are logged at INFO; DEBUG adds Pipecat's own frame-level logs, at a CPU cost).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import uvicorn
from fastapi import FastAPI, WebSocket
from loguru import logger

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent

GREETING = "Hello, you are speaking with an AI assistant. How can I help you?"
FALLBACK = (
    "Sorry, I did not quite get that. You can ask me about opening hours, shipping, "
    "returns, refunds, payment or your order."
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=os.environ.get("PIPECAT_BOT_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PIPECAT_BOT_PORT", "8766")))
    parser.add_argument(
        "--whisper-dir",
        default=str(ROOT / "target/pipecat-models/whisper-base-ct2"),
        help="faster-whisper (CTranslate2) model directory",
    )
    parser.add_argument(
        "--voice",
        default=str(ROOT / "target/pipecat-models/piper/en_US-joe-medium.onnx"),
        help="Piper voice .onnx (its .onnx.json beside it)",
    )
    parser.add_argument(
        "--faq",
        default=str(ROOT / "src/dialogue/knowledge/demo_faq.csv"),
        help="hotline's FAQ CSV (id,question,answer,lang,alt_questions); English rows are used",
    )
    parser.add_argument("--log-level", default=os.environ.get("PIPECAT_BOT_LOG_LEVEL", "INFO"))
    return parser.parse_args()


ARGS = parse_args()
logger.remove()
logger.add(sys.stderr, level=ARGS.log_level.upper())

# Imported after the logger is set up: Pipecat logs at import.
from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3  # noqa: E402
from pipecat.audio.vad.silero import SileroVADAnalyzer  # noqa: E402
from pipecat.audio.vad.vad_analyzer import VADParams  # noqa: E402
from pipecat.frames.frames import (  # noqa: E402
    Frame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TTSSpeakFrame,
)
from pipecat.pipeline.pipeline import Pipeline  # noqa: E402
from pipecat.pipeline.worker import PipelineParams, PipelineWorker  # noqa: E402
from pipecat.processors.aggregators.llm_context import LLMContext  # noqa: E402
from pipecat.processors.aggregators.llm_response_universal import (  # noqa: E402
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor  # noqa: E402
from pipecat.serializers.twilio import TwilioFrameSerializer  # noqa: E402
from pipecat.services.whisper.stt import WhisperSTTService  # noqa: E402
from pipecat.transcriptions.language import Language  # noqa: E402
from pipecat.transports.websocket.fastapi import (  # noqa: E402
    FastAPIWebsocketParams,
    FastAPIWebsocketTransport,
)
from pipecat.turns.user_stop import TurnAnalyzerUserTurnStopStrategy  # noqa: E402
from pipecat.turns.user_turn_strategies import UserTurnStrategies  # noqa: E402
from pipecat.workers.runner import WorkerRunner  # noqa: E402

import pipecat.services.piper.tts as piper_tts  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Models shared by all calls


class SharedWhisperSTTService(WhisperSTTService):
    """Pipecat's WhisperSTTService, with the model loaded once per process, not per call.

    Loaded exactly as Pipecat does (``WhisperModel(model, device=..., compute_type=...)``,
    faster-whisper's defaults otherwise); transcription is Pipecat's own ``run_stt``.
    """

    _models: dict[tuple[str, str, str], object] = {}

    def _load(self):
        key = (str(self._settings.model), self._device, self._compute_type)
        model = self._models.get(key)
        if model is None:
            super()._load()
            self._models[key] = self._model
        else:
            self._model = model


class _CachedPiperVoice:
    """Stands in for ``piper.PiperVoice`` inside Pipecat's Piper service: one load per file."""

    _real = piper_tts.PiperVoice
    _voices: dict[str, object] = {}

    @classmethod
    def load(cls, model_path, use_cuda: bool = False):
        key = f"{Path(model_path).resolve()}:{use_cuda}"
        voice = cls._voices.get(key)
        if voice is None:
            voice = cls._real.load(model_path, use_cuda=use_cuda)
            cls._voices[key] = voice
        return voice


piper_tts.PiperVoice = _CachedPiperVoice


class LoggedSmartTurn(LocalSmartTurnAnalyzerV3):
    """Pipecat's LocalSmartTurnAnalyzerV3 (bundled smart-turn-v3.2-cpu.onnx, default
    SmartTurnParams), logging each verdict at INFO so the log shows that Smart Turn ran."""

    def __init__(self, call: str, **kwargs):
        super().__init__(**kwargs)
        self._call = call

    async def analyze_end_of_turn(self):
        state, metrics = await super().analyze_end_of_turn()
        probability = getattr(metrics, "probability", None)
        inference_ms = getattr(metrics, "inference_time_ms", None)
        logger.info(
            f"[{self._call}] smart turn: {getattr(state, 'name', state)}"
            + (f" p={probability:.3f}" if isinstance(probability, float) else "")
            + (f" in {inference_ms:.0f} ms" if isinstance(inference_ms, (int, float)) else "")
        )
        return state, metrics


def make_stt() -> WhisperSTTService:
    return SharedWhisperSTTService(
        device="cpu",
        compute_type="int8",
        settings=SharedWhisperSTTService.Settings(model=ARGS.whisper_dir, language=Language.EN),
    )


def make_tts() -> piper_tts.PiperTTSService:
    voice = Path(ARGS.voice)
    # download_dir holding `<voice>.onnx` makes Pipecat load the local file, no download.
    return piper_tts.PiperTTSService(
        download_dir=voice.parent,
        settings=piper_tts.PiperTTSService.Settings(voice=voice.name.removesuffix(".onnx")),
    )


# ---------------------------------------------------------------------------------------------
# The FAQ responder (stands in for the LLM)

WORD = re.compile(r"[a-z0-9']+")
STOP = set(
    "a an the i you we my your our is are am do does did can could will would to of in on at "
    "for and or it me be have has how what when where which who why with there this that".split()
)


def words(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in STOP}


class Faq:
    """hotline's English FAQ entries: the answer and the words of every phrasing."""

    def __init__(self, path: str):
        self.entries: list[tuple[str, str, list[set[str]]]] = []
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row.get("lang") != "en":
                    continue
                phrasings = [row["question"], *filter(None, (row.get("alt_questions") or "").split("|"))]
                self.entries.append((row["id"], row["answer"], [words(p) for p in phrasings]))
        if not self.entries:
            raise SystemExit(f"bot.py: no English FAQ rows in {path}")

    def answer(self, text: str) -> tuple[str, str]:
        asked = words(text)
        best, best_score = None, 0.0
        for entry_id, answer, phrasings in self.entries:
            for phrasing in phrasings:
                if not phrasing:
                    continue
                shared = len(asked & phrasing)
                score = shared / (len(phrasing) ** 0.5)
                if score > best_score:
                    best, best_score = (entry_id, answer), score
        return best or ("fallback", FALLBACK)


FAQ = Faq(ARGS.faq)


def message_text(message) -> str:
    content = message.get("content") if isinstance(message, dict) else getattr(message, "content", "")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


class FaqResponder(FrameProcessor):
    """On each user turn (the context the user aggregator pushes), speaks the best FAQ answer."""

    def __init__(self, call: str):
        super().__init__()
        self._call = call

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if not isinstance(frame, LLMContextFrame):
            await self.push_frame(frame, direction)
            return
        if frame.speculation:
            return  # no speculative answers (the stop strategy used here never asks for one)
        users = [m for m in frame.context.get_messages() if (m.get("role") if isinstance(m, dict) else None) == "user"]
        text = message_text(users[-1]) if users else ""
        entry_id, answer = FAQ.answer(text)
        logger.info(f"[{self._call}] transcript: {text.strip()!r} -> answer {entry_id}")
        await self.push_frame(LLMFullResponseStartFrame())
        await self.push_frame(LLMTextFrame(answer))
        await self.push_frame(LLMFullResponseEndFrame())


# ---------------------------------------------------------------------------------------------
# The server

app = FastAPI()
READY = False


@app.get("/health")
async def health():
    return {"ready": READY, "pid": os.getpid()}


async def read_start(websocket: WebSocket) -> tuple[str, str | None]:
    """Reads Twilio's `connected` and `start` messages; returns (streamSid, callSid)."""
    import json

    for _ in range(10):
        message = json.loads(await asyncio.wait_for(websocket.receive_text(), timeout=10))
        if message.get("event") == "start":
            start = message.get("start") or {}
            return start.get("streamSid") or message.get("streamSid") or "MZunknown", start.get("callSid")
    raise ValueError("no Twilio `start` message in the first 10 messages")


@app.websocket("/media")
async def media(websocket: WebSocket):
    await websocket.accept()
    try:
        stream_sid, call_sid = await read_start(websocket)
    except Exception as error:  # noqa: BLE001 - a bad client must not take the server down
        logger.warning(f"/media: {error}")
        await websocket.close()
        return
    call = call_sid or stream_sid
    logger.info(f"[{call}] call started")

    serializer = TwilioFrameSerializer(
        stream_sid=stream_sid,
        call_sid=call_sid,
        params=TwilioFrameSerializer.InputParams(auto_hang_up=False),
    )
    transport = FastAPIWebsocketTransport(
        websocket=websocket,
        params=FastAPIWebsocketParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
            add_wav_header=False,
            serializer=serializer,
        ),
    )
    context = LLMContext()
    aggregators = LLMContextAggregatorPair(
        context,
        user_params=LLMUserAggregatorParams(
            vad_analyzer=SileroVADAnalyzer(params=VADParams(stop_secs=0.2)),
            user_turn_strategies=UserTurnStrategies(
                stop=[TurnAnalyzerUserTurnStopStrategy(turn_analyzer=LoggedSmartTurn(call))]
            ),
        ),
    )
    pipeline = Pipeline(
        [
            transport.input(),
            make_stt(),
            aggregators.user(),
            FaqResponder(call),
            make_tts(),
            transport.output(),
            aggregators.assistant(),
        ]
    )
    task = PipelineWorker(
        pipeline,
        # In at 16 kHz: the Twilio serializer resamples the caller's 8 kHz μ-law to it, and
        # WhisperSTTService hands the pipeline's PCM to faster-whisper as is, which assumes
        # 16 kHz (at 8 kHz Whisper hears the caller at double speed). Silero VAD takes 16 kHz;
        # Smart Turn resamples to 16 kHz itself. Out at 8 kHz: Piper's 22.05 kHz resampled once.
        params=PipelineParams(audio_in_sample_rate=16000, audio_out_sample_rate=8000),
    )

    @transport.event_handler("on_client_connected")
    async def on_client_connected(_transport, _client):
        await task.queue_frames([TTSSpeakFrame(GREETING)])

    @transport.event_handler("on_client_disconnected")
    async def on_client_disconnected(_transport, _client):
        logger.info(f"[{call}] call ended")
        await task.cancel()

    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(task)
    await runner.run()


def warm_up():
    """Loads and exercises the shared models once, before /health says ready."""
    started = time.monotonic()
    stt = make_stt()
    audio = (np.random.default_rng(0).standard_normal(16000) * 300).astype(np.int16)
    stt._model.transcribe(audio.astype(np.float32) / 32768.0, language="en")
    tts = make_tts()
    for _ in tts._voice.synthesize(GREETING):
        pass
    LoggedSmartTurn("warm-up")
    SileroVADAnalyzer()
    logger.info(f"models loaded and warmed in {time.monotonic() - started:.1f} s")


def main():
    global READY
    for path, what in ((ARGS.whisper_dir, "Whisper model dir"), (ARGS.voice, "Piper voice"), (ARGS.faq, "FAQ")):
        if not Path(path).exists():
            raise SystemExit(f"bot.py: {what} {path} not found; run benches/peers/pipecat/setup.sh")
    warm_up()
    READY = True
    logger.info(f"listening on ws://{ARGS.host}:{ARGS.port}/media (pid {os.getpid()})")
    uvicorn.run(app, host=ARGS.host, port=ARGS.port, log_level="warning", ws="websockets-sansio")


if __name__ == "__main__":
    main()
