"""The city's rich menu: 「よくある質問」「ごみ」「手続き」「人と話す」 under the chat.

:func:`rich_menu_definition` is the JSON LINE expects, :func:`render_image` draws a
plain image for it with Pillow, and :func:`upload_rich_menu` creates it, uploads the
image, makes it the default for every user and removes older menus of the same name.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from bot.errors import MadoguchiError
from bot.line.menus import MENU_PREFIX, REQUEST_HUMAN_PAYLOAD
from bot.line.messages import MAX_ACTION_LABEL, MAX_DISPLAY_TEXT, MAX_POSTBACK_DATA, line_length

RICH_MENU_NAME = "madoguchi-main"
CHAT_BAR_TEXT = "メニュー"
WIDTH, HEIGHT = 2500, 843  # LINE's compact size
MAX_IMAGE_BYTES = 1_000_000
MAX_CHAT_BAR_TEXT = 14


@dataclass(frozen=True)
class Area:
    label: str  # printed on the image and shown as the resident's message
    data: str  # postback data: "menu:<name>" or an intent payload
    colour: str  # background of the panel on the generated image


AREAS: tuple[Area, ...] = (
    Area("よくある質問", f"{MENU_PREFIX}faq", "#1d6fb8"),
    Area("ごみ", f"{MENU_PREFIX}gomi", "#2e8b57"),
    Area("手続き", f"{MENU_PREFIX}tetsuzuki", "#b5651d"),
    Area("人と話す", REQUEST_HUMAN_PAYLOAD, "#8b3a62"),
)
# What the resident's bubble says when an area is tapped.
DISPLAY_TEXT = {"人と話す": "人と話したい"}

# Fonts with Japanese glyphs, tried in order when no --font is given.
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/System/Library/Fonts/ヒラギノ角ゴシック W6.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/meiryo.ttc",
    "C:/Windows/Fonts/msgothic.ttc",
)


def rich_menu_definition(areas: Sequence[Area] = AREAS, name: str = RICH_MENU_NAME) -> dict:
    """The rich menu object: one column per area, opened by default."""
    width = WIDTH // len(areas)
    out = []
    for i, area in enumerate(areas):
        x = i * width
        w = WIDTH - x if i == len(areas) - 1 else width
        out.append({
            "bounds": {"x": x, "y": 0, "width": w, "height": HEIGHT},
            "action": {"type": "postback", "label": area.label, "data": area.data,
                       "displayText": DISPLAY_TEXT.get(area.label, area.label)},
        })
    return {"size": {"width": WIDTH, "height": HEIGHT}, "selected": True, "name": name,
            "chatBarText": CHAT_BAR_TEXT, "areas": out}


def check_definition(definition: dict) -> list[str]:
    """What LINE would reject in a rich menu object (empty when it is fine)."""
    problems = []
    size = definition.get("size", {})
    w, h = size.get("width", 0), size.get("height", 0)
    if not (800 <= w <= 2500 and h >= 250 and w / max(h, 1) >= 1.45):
        problems.append(f"size {w}x{h}: width 800–2500, height ≥ 250, width/height ≥ 1.45 expected")
    if not 1 <= line_length(definition.get("chatBarText", "")) <= MAX_CHAT_BAR_TEXT:
        problems.append(f"chatBarText must be 1–{MAX_CHAT_BAR_TEXT} characters")
    areas = definition.get("areas", [])
    if not 1 <= len(areas) <= 20:
        problems.append(f"1–20 areas expected; got {len(areas)}")
    for i, area in enumerate(areas, start=1):
        b, a = area.get("bounds", {}), area.get("action", {})
        if b.get("x", -1) < 0 or b.get("y", -1) < 0 or b.get("x", 0) + b.get("width", 0) > w or b.get("y", 0) + b.get("height", 0) > h:
            problems.append(f"area {i}: bounds outside the {w}x{h} menu")
        if line_length(a.get("label", "")) > MAX_ACTION_LABEL:
            problems.append(f"area {i}: label over {MAX_ACTION_LABEL} characters")
        if not 1 <= len(a.get("data", "")) <= MAX_POSTBACK_DATA:
            problems.append(f"area {i}: postback data must be 1–{MAX_POSTBACK_DATA} characters")
        if line_length(a.get("displayText", "")) > MAX_DISPLAY_TEXT:
            problems.append(f"area {i}: displayText over {MAX_DISPLAY_TEXT} characters")
    return problems


def find_font(explicit: Path | None = None) -> Path:
    """A font with Japanese glyphs: ``explicit``, else the first installed candidate."""
    if explicit is not None:
        if not explicit.is_file():
            raise MadoguchiError(f"font not found: {explicit}", hint="give a .ttf/.otf/.ttc file with Japanese glyphs")
        return explicit
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise MadoguchiError(
        "no font with Japanese glyphs found to draw the rich menu image",
        hint="pass --font /path/to/NotoSansCJK-Regular.ttc, or your own image with --image (2500x843 PNG/JPEG, ≤ 1 MB)",
    )


def render_image(font_path: Path, areas: Sequence[Area] = AREAS) -> bytes:
    """A 2500x843 PNG: one coloured panel per area with its label in white."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (WIDTH, HEIGHT), "#ffffff")
    draw = ImageDraw.Draw(image)
    width = WIDTH // len(areas)
    for i, area in enumerate(areas):
        x0 = i * width
        x1 = WIDTH if i == len(areas) - 1 else x0 + width
        draw.rectangle([x0 + 6, 6, x1 - 6, HEIGHT - 6], fill=area.colour)
        for size in range(110, 20, -4):  # the largest size that leaves a margin in the panel
            font = ImageFont.truetype(str(font_path), size)
            left, top, right, bottom = draw.textbbox((0, 0), area.label, font=font)
            if right - left <= (x1 - x0) * 0.85:
                break
        draw.text(((x0 + x1 - (right - left)) / 2 - left, (HEIGHT - (bottom - top)) / 2 - top), area.label, font=font, fill="#ffffff")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def image_content_type(image: bytes) -> str:
    """``image/png`` or ``image/jpeg`` from the file's first bytes; other files are refused."""
    if image.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if image.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    raise MadoguchiError("the rich menu image must be a PNG or JPEG file")


def check_image(image: bytes) -> str:
    """The image's content type, after checking LINE's limits (format, ≤ 1 MB, 2500x843)."""
    content_type = image_content_type(image)
    if len(image) > MAX_IMAGE_BYTES:
        raise MadoguchiError(f"the rich menu image is {len(image):,} bytes; LINE accepts at most 1 MB",
                             hint="save it as JPEG or with fewer colours")
    from PIL import Image

    with Image.open(io.BytesIO(image)) as img:
        if img.size != (WIDTH, HEIGHT):
            raise MadoguchiError(f"the rich menu image is {img.size[0]}x{img.size[1]}; {WIDTH}x{HEIGHT} expected")
    return content_type


@dataclass
class UploadResult:
    rich_menu_id: str
    deleted: list[str] = field(default_factory=list)


async def upload_rich_menu(client, definition: dict, image: bytes, *, replace: bool = True) -> UploadResult:
    """Create the rich menu, upload its image, make it every user's default.

    Args:
        client: A :class:`bot.line.client.LineClient`.
        definition: The rich menu object (:func:`rich_menu_definition`).
        image: PNG or JPEG bytes, 2500x843, at most 1 MB.
        replace: Delete older rich menus with the same name afterwards.

    Returns:
        The new rich menu id and the ids of the deleted old ones.
    """
    problems = check_definition(definition)
    if problems:
        raise MadoguchiError("the rich menu definition is not valid: " + "; ".join(problems))
    content_type = check_image(image)
    old = [m["richMenuId"] for m in await client.list_rich_menus()
           if m.get("name") == definition["name"] and isinstance(m.get("richMenuId"), str)] if replace else []
    rich_menu_id = await client.create_rich_menu(definition)
    await client.upload_rich_menu_image(rich_menu_id, image, content_type)
    await client.set_default_rich_menu(rich_menu_id)
    for old_id in old:
        await client.delete_rich_menu(old_id)
    return UploadResult(rich_menu_id, old)
