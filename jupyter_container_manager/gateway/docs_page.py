"""The ``/container`` WebSocket protocol as an HTML page, generated from the same event
tables the gateway validates and dispatches on (``protocol.describe()``). Pure."""

from __future__ import annotations

from html import escape


def _fields_html(fields: list[dict]) -> str:
    if not fields:
        return "<p><em>no fields</em></p>"
    rows = []
    for field in fields:
        limits = []
        if field.get("choices"):
            limits.append("one of " + ", ".join(f"<code>{escape(str(c))}</code>" for c in field["choices"]))
        if "minimum" in field:
            limits.append(f"&ge; {field['minimum']}")
        if "maximum" in field:
            limits.append(f"&le; {field['maximum']}")
        nested = _fields_html(field["fields"]) if field.get("fields") else ""
        rows.append(
            "<tr>"
            f"<td><code>{escape(field['name'])}</code></td>"
            f"<td>{escape(field['type'])}</td>"
            f"<td>{'yes' if field.get('required') else ''}</td>"
            f"<td>{escape(field.get('doc', ''))}{' (' + '; '.join(limits) + ')' if limits else ''}{nested}</td>"
            "</tr>"
        )
    return ("<table><thead><tr><th>field</th><th>type</th><th>required</th><th>meaning</th>"
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _binary_html(binary: dict) -> list[str]:
    events = ", ".join(f"<code>{escape(name)}</code> (kind {kind})"
                       for name, kind in binary["events"].items())
    rows = "".join(
        f"<tr><td><code>{escape(part['field'])}</code></td><td>{escape(part['size'])}</td>"
        f"<td>{escape(part['doc'])}</td></tr>" for part in binary["layout"])
    return [
        f"<h2 id='binary-frames'>Binary output frames (version {binary['since']} on)</h2>",
        f"<p>From version {binary['since']} on, {events} pushes are binary frames; every "
        "other frame stays JSON text. A frame is a header, then the output's bytes as they "
        "came (a process's output undecoded, so a frame may end inside a multi-byte "
        "character: decode each pid's or terminal's frames with one streaming UTF-8 "
        "decoder). The frame stands for the JSON push with the same fields, "
        "<code>data</code> being its bytes decoded. Integers are unsigned big-endian.</p>",
        "<table><thead><tr><th>part</th><th>size</th><th>meaning</th></tr></thead><tbody>"
        + rows + "</tbody></table>",
    ]


def render_html(described: dict, endpoint: str) -> str:
    """An HTML page for ``protocol.describe()``; ``endpoint`` is the socket's path."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>jupyter-container-manager WebSocket protocol</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;"
        "padding:.2em .5em;text-align:left;vertical-align:top}code{background:#f4f4f4}</style>",
        "</head><body>",
        "<h1>WebSocket <code>" + escape(endpoint) + "</code></h1>",
        "<p>JSON text frames <code>{\"event\": name, \"id\"?: requestId, \"data\": {...}}</code> "
        "both ways (from version 2 on, output pushes are <a href='#binary-frames'>binary "
        "frames</a>). A request with an <code>id</code> gets exactly one reply carrying that id: "
        "its result event, <code>ok {}</code> where none is named, or "
        "<code>error {message, code}</code>. Pushes carry no id. Requests about one terminal "
        "(<code>terminalId</code>) or one process (<code>pid</code>) apply in the order they "
        "were sent; other requests run concurrently. A socket is closed (code 4408) when it "
        "leaves pings unanswered, stops reading, or stays idle past the server's timeouts "
        "(<code>c.ContainerManager.ws_*</code>). Generated from the tables the "
        "gateway validates frames with, so this page and the server cannot disagree.</p>",
        "<p>Subprotocol: offer <code>" + escape(described["subprotocol"]) + "</code> in "
        "<code>Sec-WebSocket-Protocol</code>; the server answers with the highest version it "
        "speaks among those offered (versions: "
        + ", ".join(str(v) for v in described["versions"]) + "). A client that offers none, "
        "or none of these, is answered without one and speaks version 1. A client that "
        "speaks several offers them highest first, e.g. <code>"
        + escape(", ".join(f"jupyter-container-manager.v{v}"
                           for v in sorted(described["versions"], reverse=True)))
        + "</code>.</p>",
        *_binary_html(described["binary"]),
        "<h2 id='socket-io'>Socket.IO</h2>",
        "<p>The same events over Socket.IO: namespace <code>/container</code>, path <code>"
        + escape(endpoint.rstrip("/") + "/socket.io/") + "</code> (<code>io(serverUrl + "
        "'/container', {path, auth: {token}})</code>). An event's payload is its "
        "<code>data</code>; a request with an acknowledgement gets its reply in the "
        "callback as <code>{event, data}</code>, and without one as its event. Output is "
        "JSON (version 1). A refused connect gets <code>connect_error</code> saying why.</p>",
        "<h2>Client events</h2>",
    ]
    for name, event in described["client"].items():
        parts.append(f"<h3 id='{escape(name)}'><code>{escape(name)}</code> &rarr; "
                     f"<code>{escape(event['reply'])}</code></h3>")
        parts.append(f"<p>{escape(event['doc'])}</p>")
        parts.append(_fields_html(event["fields"]))
        for variant, fields in event.get("variants", {}).items():
            parts.append(f"<h4><code>{escape(event['variantKey'])}: {escape(variant)}</code></h4>")
            parts.append(_fields_html(fields))
        if event.get("pushes"):
            parts.append("<p>Pushes that follow: " + ", ".join(
                f"<a href='#{escape(p)}'><code>{escape(p)}</code></a>" for p in event["pushes"]) + "</p>")
    parts.append("<h2>Server events</h2>")
    for name, event in described["server"].items():
        kind = "push" if event["push"] else "reply"
        parts.append(f"<h3 id='{escape(name)}'><code>{escape(name)}</code> ({kind})</h3>")
        parts.append(f"<p>{escape(event['doc'])}</p>")
        parts.append(_fields_html(event["fields"]))
    parts.append("</body></html>")
    return "\n".join(parts)
