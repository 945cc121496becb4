"""The chat app: a Gradio Blocks UI and the JSON API, served together by uvicorn on 127.0.0.1:7860.

Fully offline: Gradio's analytics are switched off before Gradio is imported, fonts are served by the app,
and nothing is fetched from a CDN. The index, the embedding model and the reader are loaded once, at start.

Beside the chat: the retrieval mode and passage count, and the filters (a list of the index's sources and a
range of days, ``answer_turn``), applied inside retrieval as the CLI's ``--source``/``--since``/``--until`` are.
Everything shown in the chat is built by ``ui.render`` (all outside text escaped there); the chat's own
HTML sanitiser stays on. Binding beyond loopback requires ``--auth user:pass`` (or ``$QA_AUTH``) unless
``--insecure`` is given. No API schema is served (neither the app's nor Gradio's ``/openapi.json``); with
``--auth`` every Gradio route that describes or runs the app wants the login, and failed logins (the form and
the API's Basic auth) are limited per client address (``ui.login_limit``). ``qa chat`` binds its port before it
loads anything, so a busy port is refused at once, with the reason.

Example:
    $ qa chat                                   # http://127.0.0.1:7860
    $ qa chat --host 0.0.0.0 --auth me:secret   # reachable from the network, with a password
"""

from __future__ import annotations

from index.offline import use_offline_defaults

use_offline_defaults()  # Gradio's analytics off (and the models offline) before gradio is imported below

import errno  # noqa: E402
import ipaddress  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402

from corpus.defaults import DEFAULT_ARTICLES_DIR  # noqa: E402
from corpus.loaders import SUPPORTED_SUFFIXES  # noqa: E402
from index.lifecycle import open_or_build  # noqa: E402
from index.store import IndexConfig, IndexProblem  # noqa: E402
from qa.answerer import build_answerer  # noqa: E402
from qa.filters import ArticleFilter  # noqa: E402
from qa.question import check_k  # noqa: E402
from qa.retriever import MODES  # noqa: E402
from ui import add_url, followup, render  # noqa: E402
from ui.api import add_api_routes  # noqa: E402
from ui.login_limit import FailedLogins, LoginLimitMiddleware  # noqa: E402
from ui.options import ChatOptions  # noqa: E402
from ui.service import ChatService  # noqa: E402
from ui.theme import CSS, make_theme  # noqa: E402
from ui.uploads import MAX_UPLOAD_BYTES  # noqa: E402

AUTH_ENV = "QA_AUTH"
DEFAULT_K = 5
MAX_K_UI = 20
FOLLOWUP_NOTE = "Read as a follow-up ({reason}): the passages were searched with the previous question and answer too."
FILTER_NAMES = ("a source", '"Published from"', '"Published to"')  # as the chat's filter fields are labelled


# ---------------------------------------------------------------------------------------------- the UI


def build_blocks(service: ChatService) -> gr.Blocks:
    with gr.Blocks(title="Article QA", analytics_enabled=False) as demo:
        header = gr.HTML(lambda: _header(service), elem_id="qa-header")  # callables: fresh on every page load
        turns = gr.State([])  # [{"question": str, "answer": str | None}] for follow-up questions
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=480):
                chatbot = gr.Chatbot(
                    elem_id="qa-chat",
                    show_label=False,
                    height=660,
                    sanitize_html=True,
                    render_markdown=True,
                    allow_tags=False,
                    latex_delimiters=[],
                    feedback_options=None,
                    placeholder="Ask about the articles. Every answer is quoted from them, with its sources.",
                    layout="panel",
                    buttons=["copy", "copy_all"],  # no "share": it would post to an outside service
                )
                with gr.Row():
                    question = gr.Textbox(
                        elem_id="qa-question",
                        show_label=False,
                        placeholder="Ask a question about the articles…",
                        scale=5,
                        autofocus=True,
                        max_lines=4,
                        submit_btn=False,
                    )
                    ask = gr.Button("Ask", variant="primary", scale=1, min_width=90, elem_id="qa-ask")
                with gr.Row():
                    examples = gr.Dataset(
                        components=[gr.Textbox(visible=False)],
                        samples=[[q] for q in service.examples],
                        label="Example questions",
                        elem_id="qa-examples",
                        visible=bool(service.examples),
                        samples_per_page=10,
                    )
                clear = gr.Button("Clear conversation", variant="secondary", size="sm", elem_id="qa-clear")
            with gr.Column(scale=2, min_width=300):
                with gr.Accordion("Retrieval", open=True):
                    mode = gr.Radio(list(MODES), value="hybrid", label="Mode", elem_id="qa-mode",
                                    info="hybrid: meaning and words; dense: meaning; bm25: words")
                    k = gr.Slider(1, MAX_K_UI, value=DEFAULT_K, step=1, label="Passages", elem_id="qa-k",
                                  info="how many passages are read and cited")
                with gr.Accordion("Filters", open=True):
                    sources = gr.Dropdown(service.sources(), value=[], multiselect=True, label="Sources",
                                          elem_id="qa-sources", info="answer only from these (none chosen: all)")
                    with gr.Row():  # days as text: a date picker would need outside scripts, and text can be typed
                        since = gr.Textbox(label="Published from", placeholder="YYYY-MM-DD", max_lines=1, elem_id="qa-since")
                        until = gr.Textbox(label="Published to", placeholder="YYYY-MM-DD", max_lines=1, elem_id="qa-until",
                                           info="both days included; undated articles are left out")
                with gr.Accordion("Add articles", open=True):
                    files = gr.File(
                        label=f"Upload {' '.join(SUPPORTED_SUFFIXES)} (up to {MAX_UPLOAD_BYTES // 2**20} MB each)",
                        file_count="multiple",
                        file_types=list(SUPPORTED_SUFFIXES),
                        type="filepath",
                        elem_id="qa-upload",
                        height=120,
                    )
                    url_box = add_url.url_controls()
                    upload_report = gr.HTML("", elem_id="qa-upload-report")
                with gr.Accordion("Articles in the corpus", open=True):
                    articles = gr.HTML(lambda: render.render_articles(service.article_rows()), elem_id="qa-articles")

        def respond(text, history, turn_list, mode_value, k_value, sources_value, since_value, until_value):
            return answer_turn(service, text, history, turn_list, mode_value, k_value, sources_value, since_value, until_value)

        def upload(paths):
            if not paths:
                return gr.update(), gr.update(), gr.update(), None, gr.update()
            given = [(Path(p), Path(p).name) for p in (paths if isinstance(paths, list) else [paths])]
            result = service.upload(given)
            report = render.render_upload_report(result.lines)
            return report, render.render_articles(service.article_rows()), _header(service), None, _source_choices(service)

        inputs = [question, chatbot, turns, mode, k, sources, since, until]
        outputs = [question, chatbot, turns]
        question.submit(respond, inputs, outputs, api_name=False)
        ask.click(respond, inputs, outputs, api_name=False)
        examples.click(lambda sample: sample[0], examples, question, api_name=False).then(
            respond, inputs, outputs, api_name=False
        )
        clear.click(lambda: ("", [], []), None, outputs, api_name=False)
        chatbot.clear(lambda: [], None, turns, api_name=False)  # the chat's own bin icon forgets the turns too
        files.upload(upload, files, [upload_report, articles, header, files, sources], api_name=False)
        add_url.wire(service, url_box, upload_report, [articles, header, sources], lambda: (
            render.render_articles(service.article_rows()), _header(service), _source_choices(service)))
        demo.load(lambda: _source_choices(service), None, sources, api_name=False)  # another tab's uploads
    return demo


def _source_choices(service: ChatService):
    return gr.update(choices=service.sources())


def answer_turn(service: ChatService, text, history, turn_list, mode_value, k_value, sources_value=None,
                since_value=None, until_value=None):
    """One chat turn: (new question box, history, turns). A question the answerer refuses (``ValueError``: empty
    of words, not valid text, too long; a bad passage count; a bad day, or filters no article matches) gets its
    reason as the reply, never a raw error. The filters (sources, days) restrict retrieval itself."""
    text = (text or "").strip() if isinstance(text, str) else ""
    if not text:
        return gr.update(), history, turn_list
    previous = turn_list[-1] if turn_list else None
    try:
        k = check_k(DEFAULT_K if k_value is None else k_value, "the number of passages")
        filters = ArticleFilter.parse(sources_value or [], since_value, until_value, FILTER_NAMES)
        query, decision = followup.plan(
            text, previous["question"] if previous else None, previous["answer"] if previous else None
        )
        reply = service.ask(text, k=k, mode=mode_value or None, retrieval_query=query,
                            filters=filters if filters.active else None)
    except ValueError as exc:
        content = render.render_error(str(exc))
        answer_text = None
    else:
        note = FOLLOWUP_NOTE.format(reason=decision.reason) if query else None
        content = render.render_answer(reply.answer, note, reply.notice, filters.describe() if filters.active else None)
        answer_text = reply.answer.answer
    history = list(history or []) + [
        {"role": "user", "content": render.render_question(text)},
        {"role": "assistant", "content": content},
    ]
    return "", history, list(turn_list or []) + [{"question": text, "answer": answer_text}]


def _header(service: ChatService) -> str:
    n = len(service.index.articles)
    chunks = len(service.index.chunks)
    dense = "dense + BM25" if service.answerer.retriever.dense_problem is None else "BM25 only"
    reader = getattr(getattr(service.answerer, "reader", None), "name", "extractive")
    badges = "".join(
        f'<span class="qa-badge">{render.escape(b)}</span>'
        for b in (f"{n} articles · {chunks} passages", dense, f"{reader} reader", "offline")
    )
    return (
        "<h1>Article QA</h1>"
        "<p>Answers quoted from the articles, each with its sentence and numbered sources.</p>"
        f"<div>{badges}</div>"
    )


def create_app(service: ChatService, credentials: tuple[str, str] | None = None, logins: FailedLogins | None = None):
    """The FastAPI app: ``POST /api/ask`` and the chat mounted at ``/``. ``logins``: the failed-login count of
    the chat's form and the API together (a new one when None)."""
    from fastapi import FastAPI

    logins = logins or FailedLogins()
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    add_api_routes(app, service, credentials, logins)
    app.add_middleware(LoginLimitMiddleware, logins=logins)
    demo = build_blocks(service)
    return gr.mount_gradio_app(
        app,
        demo,
        path="/",
        auth=credentials,
        theme=make_theme(),
        css=CSS,
        footer_links=[],
        max_file_size=MAX_UPLOAD_BYTES,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        show_error=True,
        # Gradio's own app would serve /openapi.json, the schema of every route, to anyone, login or not
        app_kwargs={"openapi_url": None, "docs_url": None, "redoc_url": None},
    )


# ---------------------------------------------------------------------------------------------- serving


@dataclass
class RunningServer:
    """A server started in a background thread (tests, screenshots, benchmarks)."""

    server: object
    thread: threading.Thread
    url: str

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def serve_in_thread(app, host: str = "127.0.0.1", port: int = 0, timeout: float = 60.0) -> RunningServer:
    """Start uvicorn on ``host:port`` (0: a free port) in a daemon thread; return once it accepts requests."""
    import socket

    import uvicorn

    if port == 0:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"qa-chat-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"the server on {host}:{port} stopped while starting")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError(f"the server on {host}:{port} did not start in {timeout:.0f} s")
        time.sleep(0.05)
    return RunningServer(server, thread, f"http://{host}:{port}")


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``user:password`` -> (user, password); ValueError for anything else."""
    if value is None or value == "":
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth (or $QA_AUTH) must be USER:PASSWORD, both non-empty")
    return user, password


def check_exposure(host: str, credentials: tuple[str, str] | None, insecure: bool) -> str | None:
    """Why serving on ``host`` is refused, or None. Beyond loopback a password is required."""
    if is_loopback(host) or credentials is not None or insecure:
        return None
    return (
        f"refusing to serve on {host}: it is reachable from other machines and the app has no password. "
        f"Give --auth USER:PASSWORD (or set {AUTH_ENV}), bind to 127.0.0.1, or pass --insecure to serve "
        "without a password anyway."
    )


def bind_port(host: str, port: int):
    """A socket bound to ``host:port`` for the server to listen on; ``ValueError`` saying why it cannot be (the
    port is taken, the address is not this machine's, the port is out of range)."""
    import socket

    if not 0 <= port <= 65535:
        raise ValueError(f"--port must be from 0 to 65535 (got {port})")
    address = host.strip("[]")
    try:
        family = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ValueError(f"cannot serve on {host}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does; a listening port still refuses
        sock.bind((address, port))
    except OSError as exc:
        sock.close()
        why = "another program is already using it" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise ValueError(f"cannot serve on {host} port {port}: {why}; choose another with --port") from None
    sock.set_inheritable(True)
    return sock


def load_service(index_dir: Path, uploads_dir: Path | None = None, reader: str = "auto", warm_up: bool = True) -> ChatService:
    """Open the index (building it from the default corpus when there is none yet) and the answerer, once."""
    index_dir = Path(index_dir)
    outcome = open_or_build([DEFAULT_ARTICLES_DIR], index_dir, IndexConfig(), progress=False)
    if outcome.index is None:
        raise RuntimeError(f"could not build the index: {outcome.reason}")
    if outcome.rebuilt:
        print(f"qa chat: no index at {index_dir}; built it from the default corpus", file=sys.stderr)
    service = ChatService(build_answerer(outcome.index, reader), index_dir, uploads_dir)
    if warm_up:  # the first question pays for lazy initialisation in torch and the reader: pay it now
        try:
            service.ask(service.examples[0] if service.examples else "What is this about?")
        except Exception as exc:  # a warm-up failure must not stop the app; the same error shows on asking
            print(f"qa chat: warm-up question failed ({exc.__class__.__name__}: {exc})", file=sys.stderr)
    return service


def serve(options: ChatOptions) -> int:
    """``qa chat``: check the exposure rules, load everything once, serve until stopped. Returns the exit code."""
    try:
        credentials = parse_auth(options.auth or os.environ.get(AUTH_ENV))
    except ValueError as exc:
        print(f"qa chat: {exc}", file=sys.stderr)
        return 2
    if problem := check_exposure(options.host, credentials, options.insecure):
        print(f"qa chat: {problem}", file=sys.stderr)
        return 2
    try:  # the port first: a busy one is refused before seconds of loading, and never announced as served
        sock = bind_port(options.host, options.port)
    except ValueError as exc:
        print(f"qa chat: {exc}", file=sys.stderr)
        return 2
    with sock:
        started = time.perf_counter()
        try:
            service = load_service(options.index_dir)
            service.allow_private_urls = options.allow_private_urls  # URLs added in the chat: see ui.service
        except IndexProblem as exc:
            print(f"qa chat: {exc}", file=sys.stderr)
            return 1
        app = create_app(service, credentials)
        import uvicorn

        shown = f"[{options.host}]" if ":" in options.host else options.host
        port = sock.getsockname()[1]
        print(
            f"qa chat: loaded in {time.perf_counter() - started:.1f} s; serving http://{shown}:{port}  "
            f"(JSON API: POST /api/ask; uploads go to {service.uploads_dir})",
            file=sys.stderr,
        )
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
    return 0
