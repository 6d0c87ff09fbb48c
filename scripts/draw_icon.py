"""Draw the integration's brand icon: a building whose lit windows form a rising bar chart.

Run with the development environment's Python (Pillow comes with Home Assistant):
    .venv/bin/python scripts/draw_icon.py
It writes custom_components/ecostruxure/brand/icon.png (256 px) and icon@2x.png (512 px).
"""

from pathlib import Path

from PIL import Image, ImageDraw

BRAND = Path(__file__).resolve().parents[1] / "custom_components" / "ecostruxure" / "brand"
GREEN = (61, 205, 88, 255)
DARK_GREEN = (0, 120, 60, 255)
WHITE = (255, 255, 255, 255)
AMBER = (255, 196, 0, 255)


def draw(size: int) -> Image.Image:
    """The icon at `size` x `size` pixels, drawn on a 4x canvas and scaled down smoothly."""
    scale = 4
    canvas = size * scale
    unit = canvas / 64  # the design is laid out on a 64 x 64 grid
    image = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        return (x0 * unit, y0 * unit, x1 * unit, y1 * unit)

    pen.rounded_rectangle(box(2, 2, 62, 62), radius=12 * unit, fill=GREEN)
    # The building: a tower and a lower wing on a ground line.
    pen.rectangle(box(14, 14, 36, 52), fill=WHITE)
    pen.rectangle(box(36, 28, 50, 52), fill=WHITE)
    pen.rectangle(box(10, 52, 54, 55), fill=WHITE)
    # Windows lit from bottom to top like bars of a chart: energy data, floor by floor.
    for column, lit_floors in enumerate((2, 3, 5)):
        x = 17 + column * 6
        for floor in range(5):
            y = 47 - floor * 6.5
            colour = AMBER if floor < lit_floors else DARK_GREEN
            pen.rectangle(box(x, y, x + 4, y + 4), fill=colour)
    for floor in range(3):
        y = 47 - floor * 6.5
        pen.rectangle(box(40, y, 46, y + 4), fill=DARK_GREEN if floor else AMBER)
    # A lightning bolt on the wing's roof: the electrical side of the building.
    bolt = [(44, 8), (38, 20), (43, 20), (40, 27), (49, 15), (44, 15), (47, 8)]
    pen.polygon([(x * unit, y * unit) for x, y in bolt], fill=AMBER)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    """Write both sizes."""
    BRAND.mkdir(parents=True, exist_ok=True)
    for name, size in (("icon.png", 256), ("icon@2x.png", 512)):
        draw(size).save(BRAND / name, optimize=True)
        print(f"wrote {BRAND / name}")


if __name__ == "__main__":
    main()
