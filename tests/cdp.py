"""A small client of Chromium's DevTools protocol, enough to drive one headless page: open a
URL, press keys as a person would (real key events), read what an xterm.js terminal on the
page shows, and take a screenshot. Used by tests/test_tui_serve.py with Debian's chromium."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

#: before any script of the page runs: keep the xterm.js Terminal an object assigns to its
#: ``terminal`` property (textual-serve's page does) as window.__term, so its screen can be read
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true, enumerable: true});
    if (value && value.buffer && value.buffer.active) { window.__term = value; }
  },
});
"""

READ_SCREEN = """(() => {
  const t = window.__term;
  if (!t) return null;
  const b = t.buffer.active, lines = [];
  for (let i = 0; i < t.rows; i++) {
    const l = b.getLine(b.viewportY + i);
    lines.push(l ? l.translateToString(true) : "");
  }
  return lines.join("\\n");
})()"""

#: key name -> (key, code, windowsVirtualKeyCode, text)
KEYS = {"Enter": ("Enter", "Enter", 13, "\r"), "Escape": ("Escape", "Escape", 27, ""),
        "Tab": ("Tab", "Tab", 9, "\t"), "Down": ("ArrowDown", "ArrowDown", 40, ""),
        "Up": ("ArrowUp", "ArrowUp", 38, "")}


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """One headless Chromium with one page, over the DevTools websocket."""

    def __init__(self, width: int = 1600, height: int = 1000) -> None:
        from websockets.sync.client import connect

        exe = chromium()
        if exe is None:
            raise RuntimeError("chromium is not installed")
        self.profile = tempfile.mkdtemp(prefix="dat-chromium-")
        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", "--disable-background-networking", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        ws_url = None
        deadline = time.monotonic() + 30
        assert self.proc.stderr is not None
        while time.monotonic() < deadline and ws_url is None:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                break
            match = re.search(r"DevTools listening on (ws://\S+)", line)
            if match:
                ws_url = match.group(1)
        if ws_url is None:
            self.close()
            raise RuntimeError("chromium did not start its DevTools server")
        self.stack = contextlib.ExitStack()
        self.ws = self.stack.enter_context(connect(ws_url, max_size=None, open_timeout=30))
        self.ids = itertools.count(1)
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.send("Page.enable")
        self.send("Network.enable")
        # the page asks Google for a font: no network is needed or wanted
        self.send("Network.setBlockedURLs", urls=["*fonts.googleapis.com*", "*fonts.gstatic.com*"])
        self.send("Page.addScriptToEvaluateOnNewDocument", source=CATCH_TERMINAL)

    def send(self, method: str, timeout: float = 30, **params: Any) -> dict:
        """Call ``method``; its result (events that arrive meanwhile are dropped)."""
        msg_id = next(self.ids)
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params}
        if method.split(".")[0] not in ("Target", "Browser"):
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def open(self, url: str) -> None:
        self.send("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def screen(self) -> str:
        """The terminal's lines as the page shows them ("" before the terminal exists)."""
        return self.evaluate(READ_SCREEN) or ""

    def wait_for(self, *texts: str, absent: tuple[str, ...] = (), timeout: float = 30) -> str:
        """The screen once it shows every one of ``texts`` and none of ``absent``."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if all(t in screen for t in texts) and not any(t in screen for t in absent):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"never saw {texts!r} without {absent!r} in the browser:\n{screen}")

    def key(self, name: str, ctrl: bool = False) -> None:
        """Press and release a key: a name of :data:`KEYS` or one character."""
        if name in KEYS:
            key, code, vk, text = KEYS[name]
        else:
            key, code, vk = name, f"Key{name.upper()}" if name.isalpha() else "", ord(name.upper())
            text = "" if ctrl else name
        common = {"key": key, "code": code, "windowsVirtualKeyCode": vk, "nativeVirtualKeyCode": vk,
                  "modifiers": 2 if ctrl else 0}
        self.send("Input.dispatchKeyEvent", type="keyDown" if text else "rawKeyDown", text=text, **common)
        self.send("Input.dispatchKeyEvent", type="keyUp", **common)
        time.sleep(0.15)

    def type(self, text: str) -> None:
        for char in text:
            self.key(char)

    def screenshot(self, path: Path) -> bytes:
        data = base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])
        path.write_bytes(data)
        return data

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            try:
                self.send("Browser.close", timeout=5)
            except Exception:
                pass
            self.stack.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)
