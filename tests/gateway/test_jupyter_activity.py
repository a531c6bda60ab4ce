"""Traffic on the ``/container`` socket counts as Jupyter activity: the server's
``last_activity`` (what an idle culler reads, and ``/api/status``) moves with each frame a
client sends, as with a request to Jupyter's own API."""

from __future__ import annotations

import asyncio

from jupyter_container_manager.gateway.handler import ACTIVITY_KEY


async def test_socket_frames_move_the_servers_last_activity(api, ws, jp_serverapp):
    web_app = jp_serverapp.web_app
    cid = (await api.create())["id"]
    sock = await ws()
    await sock.join(cid)
    tid = (await sock.ok("pty-open", {"cols": 80, "rows": 24}))["terminalId"]
    # Nothing else touches the server from here on.
    web_app.settings.pop("api_last_activity", None)
    before = web_app.last_activity()
    await asyncio.sleep(0.05)
    await sock.send("pty-input", {"terminalId": tid, "data": "echo typed\n"})
    await sock.pty_text(tid, "typed\r\n")
    assert web_app.settings[ACTIVITY_KEY] > before
    assert web_app.last_activity() == web_app.settings[ACTIVITY_KEY]
    assert "api_last_activity" not in web_app.settings  # the socket's own, not the API's
    typed_at = web_app.last_activity()

    # Pushes alone (the terminal printing) are not activity: only what a client sends.
    await sock.send("pty-input", {"terminalId": tid, "data": "sleep 0.3; echo later\n"})
    for _ in range(100):
        if web_app.settings[ACTIVITY_KEY] > typed_at:
            break
        await asyncio.sleep(0.01)
    sent_at = web_app.settings[ACTIVITY_KEY]
    assert sent_at > typed_at
    await sock.pty_text(tid, "later\r\n")
    assert web_app.settings[ACTIVITY_KEY] == sent_at

    # What /api/status reports (what JupyterHub's culler reads) follows too.
    status = await api.get("api", "status")
    assert status.json()["last_activity"].startswith(sent_at.strftime("%Y-%m-%dT%H:%M:%S"))
