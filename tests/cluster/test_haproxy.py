"""The generated HAProxy configuration with the real HAProxy, in front of a fake replica
that is alive but slow to answer its health check, as a Rasa process is under load."""

from __future__ import annotations

import asyncio
import subprocess

import aiohttp
from aiohttp import web

from bot.cluster.layout import ClusterLayout, haproxy_config, unavailable_response
from tests.conftest import free_port

SLOW_CHECK_SECONDS = 1.5  # longer than the check interval (1 s): a busy replica


async def test_a_busy_replica_stays_in_rotation_and_a_dead_one_does_not(aiohttp_server, tmp_path):
    checks = {"n": 0}

    async def health(_request):
        checks["n"] += 1
        await asyncio.sleep(SLOW_CHECK_SECONDS)
        return web.json_response({"status": "ok"})

    async def webhook(_request):
        return web.json_response([{"text": "answered by the replica"}])

    app = web.Application()
    app.router.add_get("/webhooks/rest/", health)
    app.router.add_post("/webhooks/rest/webhook", webhook)
    port = free_port()
    replica = await aiohttp_server(app, port=port)
    layout = ClusterLayout(tmp_path, replicas=1, rasa_front_port=free_port(), console_front_port=free_port(),
                           node_base_port=port - 10)
    layout.haproxy_dir.mkdir(parents=True)
    (layout.haproxy_dir / "unavailable.http").write_text(unavailable_response(), encoding="utf-8")
    cfg = layout.haproxy_dir / "haproxy.cfg"
    cfg.write_text(haproxy_config(layout))
    subprocess.run(["haproxy", "-f", str(cfg)], check=True, timeout=30)
    pid = int((layout.haproxy_dir / "haproxy.pid").read_text())
    try:
        async with aiohttp.ClientSession() as s:
            url = f"{layout.rasa_url}/webhooks/rest/webhook"
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while checks["n"] < 4:  # several slow checks: with a 1 s check timeout it would be DOWN after 2
                assert loop.time() < deadline, "HAProxy did not check the replica"
                await asyncio.sleep(0.2)
            async with s.post(url, json={"sender": "s", "message": "m"}) as resp:
                assert resp.status == 200 and (await resp.json())[0]["text"] == "answered by the replica"
            # A dead replica (connection refused) is still taken out quickly: the polite 503.
            await replica.close()
            while True:
                async with s.post(url, json={"sender": "s", "message": "m"}) as resp:
                    body = await resp.json(content_type=None)
                    if resp.status == 503:
                        assert body[0]["custom"] == {"type": "error"}
                        break
                assert loop.time() < deadline + 60, "the dead replica stayed in rotation"
                await asyncio.sleep(0.2)
    finally:
        subprocess.run(["kill", str(pid)], check=False)
