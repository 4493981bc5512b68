"""``bot line …``: the LINE official account's rich menu."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from bot.errors import MadoguchiError


@click.group("line")
def line() -> None:
    """LINE official account: rich menu (see docs/line.md).

    \b
    Example:
        bot line richmenu show
        LINE_CHANNEL_ACCESS_TOKEN=… bot line richmenu upload
    """


@line.group("richmenu")
def richmenu() -> None:
    """The rich menu under the chat: よくある質問・ごみ・手続き・人と話す.

    \b
    Example:
        bot line richmenu image var/richmenu.png
        bot line richmenu upload
    """


@richmenu.command("show")
def show() -> None:
    """Print the rich menu definition (LINE's JSON) that `upload` sends.

    \b
    Example:
        bot line richmenu show | jq .areas
    """
    from bot.line.richmenu import rich_menu_definition

    click.echo(json.dumps(rich_menu_definition(), ensure_ascii=False, indent=2))


@richmenu.command("image")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--font", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Font with Japanese glyphs (default: an installed Noto Sans CJK or similar).")
def image(out: Path, font: Path | None) -> None:
    """Draw the rich menu image (2500x843 PNG) to OUT, to look at or edit before uploading.

    \b
    Example:
        bot line richmenu image var/richmenu.png
    """
    from bot.line.richmenu import find_font, render_image

    try:
        data = render_image(find_font(font))
    except MadoguchiError as exc:
        raise click.ClickException(str(exc)) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    click.echo(f"wrote {out} ({len(data):,} bytes)")


@richmenu.command("upload")
@click.option("--access-token", envvar="LINE_CHANNEL_ACCESS_TOKEN", default=None, show_envvar=True,
              help="Channel access token (long-lived) from the LINE Developers console.")
@click.option("--image", "image_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Your own image, PNG or JPEG, 2500x843, at most 1 MB (default: drawn with --font).")
@click.option("--font", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Font with Japanese glyphs for the drawn image.")
@click.option("--keep-old", is_flag=True, help="Do not delete older rich menus of the same name.")
@click.option("--api-base-url", envvar="LINE_API_BASE_URL", default="https://api.line.me", show_default=True,
              show_envvar=True, help="Messaging API base URL (a fake platform in tests and staging).")
@click.option("--data-api-base-url", envvar="LINE_DATA_API_BASE_URL", default="https://api-data.line.me",
              show_default=True, show_envvar=True, help="Base URL for uploading images.")
def upload(access_token: str | None, image_path: Path | None, font: Path | None, keep_old: bool,
           api_base_url: str, data_api_base_url: str) -> None:
    """Create the rich menu, upload its image and make it the default for every user.

    Older rich menus with the same name are deleted afterwards (unless --keep-old).

    \b
    Example:
        export LINE_CHANNEL_ACCESS_TOKEN=…
        bot line richmenu upload
        bot line richmenu upload --image design/richmenu.png
    """
    from bot.line.client import LineApiConfig, LineClient
    from bot.line.richmenu import find_font, render_image, rich_menu_definition, upload_rich_menu

    if not access_token or not access_token.strip():
        raise click.ClickException("no channel access token: set LINE_CHANNEL_ACCESS_TOKEN (or pass --access-token)")
    try:
        data = image_path.read_bytes() if image_path else render_image(find_font(font))
        config = LineApiConfig(access_token=access_token.strip(), api_base_url=api_base_url.rstrip("/"),
                               data_api_base_url=data_api_base_url.rstrip("/"))

        async def go():
            async with LineClient(config) as client:
                return await upload_rich_menu(client, rich_menu_definition(), data, replace=not keep_old)

        result = asyncio.run(go())
    except MadoguchiError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"rich menu {result.rich_menu_id} uploaded and set as the default for every user")
    for old in result.deleted:
        click.echo(f"  deleted the older rich menu {old}")
