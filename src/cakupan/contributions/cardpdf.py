"""Membership cards as PDF (fpdf2): one card, or an A4 sheet of eight per page for a programme.

Each card is the size of a bank card (85.6 × 54 mm): name, masked NIK, membership number,
sponsor, valid-through date, and the QR code of `<SITE>/V/<TOKEN>` (segno, alphanumeric mode,
error correction M, version ≤ 10).
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from dataclasses import dataclass

import segno
from django.utils.translation import gettext as _
from fpdf import FPDF

from cakupan.contributions.cards import card_token, card_url, month_end
from cakupan.contributions.models import Card
from cakupan.membership.models import FundingAssignment
from cakupan.registry.nik import mask_nik

CARD_W, CARD_H = 85.6, 54.0
QR_SIZE = 34.0
# A4 portrait, 2 columns × 4 rows
COLS, ROWS = 2, 4
GAP = 6.0


def card_qr(card: Card) -> segno.QRCode:
    """The card's QR code: its verification address, error correction M."""
    return segno.make(card_url(card_token(card)), error="m", micro=False, boost_error=False)


def latin_text(text: str) -> str:
    """The PDF's built-in fonts hold Latin-1 only: the NIK mask's bullets become asterisks,
    accents outside Latin-1 are dropped to their letter, anything else becomes '?'."""
    text = text.replace("•", "*").replace("’", "'").replace("–", "-").replace("—", "-")
    text = text.replace("→", "->")
    out = []
    for ch in text:
        if ord(ch) < 256:
            out.append(ch)
            continue
        base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
        out.append(base or "?")
    return "".join(out)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """The text cut (with "...") to fit `width` in the current font: nothing may run into the
    QR code's quiet zone."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "...") > width:
        text = text[:-1]
    return text.rstrip() + "..."


@dataclass(frozen=True)
class CardFace:
    """What is printed on one card."""

    name: str
    masked_nik: str
    number: str
    sponsor: str
    valid_through: dt.date  # the last day
    qr: segno.QRCode


def _sponsors(cards: list[Card], today: dt.date) -> dict[int, str]:
    """membership → who pays this month: the sponsor's name, or self-paid."""
    month = today.replace(day=1)
    ids = [c.membership_id for c in cards]
    rows = (
        FundingAssignment.objects.filter(membership_id__in=ids, first_month__lte=month)
        .exclude(last_month__lt=month)
        .values_list("membership_id", "programme__sponsor__name")
    )
    return {mid: name or _("Self-paid") for mid, name in rows}


def card_faces(cards: list[Card], today: dt.date) -> list[CardFace]:
    sponsors = _sponsors(cards, today)
    return [
        CardFace(
            name=c.membership.worker.full_name,
            masked_nik=mask_nik(c.membership.worker.nik),
            number=c.membership.number,
            sponsor=sponsors.get(c.membership_id, "—"),
            valid_through=month_end(c.valid_through),
            qr=card_qr(c),
        )
        for c in cards
    ]


def _draw(pdf: FPDF, face: CardFace, x: float, y: float) -> None:
    pdf.set_draw_color(120, 120, 120)
    pdf.set_line_width(0.2)
    pdf.rect(x, y, CARD_W, CARD_H, round_corners=True, corner_radius=3)
    # header band
    pdf.set_fill_color(0, 94, 133)
    pdf.rect(x, y, CARD_W, 9, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("Helvetica", "B", 8.5)
    pdf.set_xy(x + 3, y + 1.2)
    pdf.cell(CARD_W - 6, 4, latin_text(_("BPJS Ketenagakerjaan membership card")))
    pdf.set_font("Helvetica", "", 6.5)
    pdf.set_xy(x + 3, y + 4.8)
    pdf.cell(CARD_W - 6, 3, latin_text(_("Kota Malang · Jamsostek for workers")))
    pdf.set_text_color(0, 0, 0)
    # the QR, right
    png = io.BytesIO()
    face.qr.save(png, kind="png", scale=6, border=4)
    png.seek(0)
    pdf.image(png, x=x + CARD_W - QR_SIZE - 1.5, y=y + 10, w=QR_SIZE, h=QR_SIZE)
    # the text, left
    left, width = x + 3, CARD_W - QR_SIZE - 6
    cy = y + 11
    pdf.set_font("Helvetica", "B", 9)
    pdf.set_xy(left, cy)
    # at most three lines of name, so the four rows below stay on the card
    pdf.multi_cell(width, 4, _fit(pdf, latin_text(face.name), width * 3 - 12), max_line_height=4)
    cy = max(cy + 9, pdf.get_y() + 1)
    rows = [
        ("NIK", face.masked_nik),
        (_("Membership no."), face.number),
        (_("Sponsor"), face.sponsor),
        (_("Valid through"), face.valid_through.strftime("%d/%m/%Y")),
    ]
    for label, value in rows:
        pdf.set_font("Helvetica", "", 6)
        pdf.set_text_color(90, 90, 90)
        pdf.set_xy(left, cy)
        pdf.cell(width, 2.6, latin_text(label))
        pdf.set_font("Helvetica", "B", 7.5)
        pdf.set_text_color(0, 0, 0)
        pdf.set_xy(left, cy + 2.6)
        pdf.cell(width, 3.4, _fit(pdf, latin_text(value), width))
        cy += 7
    pdf.set_font("Helvetica", "", 5.5)
    pdf.set_text_color(90, 90, 90)
    pdf.set_xy(x + CARD_W - QR_SIZE - 1.5, y + 10 + QR_SIZE)
    pdf.cell(QR_SIZE, 3, latin_text(_("Scan to check protection")), align="C")
    pdf.set_text_color(0, 0, 0)


def _pdf(title: str) -> FPDF:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(latin_text(title))
    pdf.set_creator("cakupan")
    return pdf


def card_pdf(card: Card, today: dt.date) -> bytes:
    """One card, on a page of its own size (to print on card stock or cut out)."""
    (face,) = card_faces([card], today)
    pdf = FPDF(orientation="L", unit="mm", format=(CARD_H + 10, CARD_W + 10))
    pdf.set_auto_page_break(False)
    pdf.set_title(latin_text(_("Membership card") + " " + face.number))
    pdf.set_creator("cakupan")
    pdf.add_page()
    _draw(pdf, face, 5, 5)
    return bytes(pdf.output())


def cards_pdf(cards: list[Card], today: dt.date, title: str) -> bytes:
    """A4 sheets of eight cards with cutting room between them."""
    pdf = _pdf(title)
    faces = card_faces(cards, today)
    per_page = COLS * ROWS
    x0 = (210 - COLS * CARD_W - (COLS - 1) * GAP) / 2
    y0 = (297 - ROWS * CARD_H - (ROWS - 1) * GAP) / 2
    for i, face in enumerate(faces):
        slot = i % per_page
        if slot == 0:
            pdf.add_page()
        col, row = slot % COLS, slot // COLS
        _draw(pdf, face, x0 + col * (CARD_W + GAP), y0 + row * (CARD_H + GAP))
    if not faces:
        pdf.add_page()
        pdf.set_font("Helvetica", "", 11)
        pdf.set_xy(20, 20)
        pdf.cell(170, 6, latin_text(_("No membership is funded by this programme this month.")))
    return bytes(pdf.output())
