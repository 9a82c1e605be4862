"""Name normalisation: real variants fold to one key, and the polars column gives the same key."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cakupan.linkage import normalise_name, normalise_names

# (how it was written, how it is written elsewhere): both must give the same key.
SAME_NAME = [
    # case, spacing, punctuation
    ("BUDI  SANTOSO", "Budi Santoso"),
    (" budi santoso. ", "Budi Santoso"),
    ("Ma'ruf Amin", "Maruf Amin"),
    ("Ma’ruf Amin", "Maruf Amin"),
    ("Nur-Aini", "Nur Aini"),
    ("Dévi Ratnasari", "Devi Ratnasari"),
    # titles and honorifics before the name
    ("H. Ahmad Fauzi", "Ahmad Fauzi"),
    ("Hj. Siti Aminah", "Siti Aminah"),
    ("Drs. H. Bambang Sutrisno", "Bambang Sutrisno"),
    ("Dr. Ir. Hadi Susanto", "Hadi Susanto"),
    ("Bpk. Slamet", "Slamet"),
    ("Bapak Slamet", "Slamet"),
    ("Ibu Sumiati", "Sumiati"),
    ("Bu Sumiati", "Sumiati"),
    ("Sdr. Agus", "Agus"),
    ("Sdri. Rina", "Rina"),
    ("Alm. Suparman", "Suparman"),
    ("KH. Hasyim Asyari", "Hasyim Asyari"),
    ("K.H. Hasyim Asyari", "Hasyim Asyari"),
    ("Ust. Abdul Somad", "Abdul Somad"),
    ("Ustadz Abdul Somad", "Abdul Somad"),
    ("H.Ahmad", "Ahmad"),
    # degrees after the name, with or without a comma
    ("Budi Santoso, S.Pd.", "Budi Santoso"),
    ("Budi Santoso S.Pd", "Budi Santoso"),
    ("Sri Rahayu, S.E.", "Sri Rahayu"),
    ("Sri Rahayu, SE", "Sri Rahayu"),
    ("Agus Salim, S.H., M.H.", "Agus Salim"),
    ("Dewi Lestari, S.Kom.", "Dewi Lestari"),
    ("Eka Putri, Amd.", "Eka Putri"),
    ("Eka Putri, A.Md.Keb.", "Eka Putri"),
    ("Siti Fatimah, S.Pd.I", "Siti Fatimah"),
    ("Drs. Heru Prasetyo, M.M.", "Heru Prasetyo"),
    # Muhammad and its many spellings
    ("Muhammad Ali", "Mohammad Ali"),
    ("Muhammad Ali", "Mohamad Ali"),
    ("Muhammad Ali", "Muhamad Ali"),
    ("Muhammad Ali", "Moch. Ali"),
    ("Muhammad Ali", "Mochammad Ali"),
    ("Muhammad Ali", "Mochamad Ali"),
    ("Muhammad Ali", "Moh. Ali"),
    ("Muhammad Ali", "Mokh. Ali"),
    ("Muhammad Ali", "Mokhammad Ali"),
    ("Muhammad Ali", "M. Ali"),
    ("Muhammad Ali", "Muh. Ali"),
    ("Muhammad Ali", "MOCH ALI"),
    # Siti, Nur, Abdul, Ahmad
    ("Siti Aminah", "St. Aminah"),
    ("Siti Aminah", "Sitti Aminah"),
    ("Nur Hidayah", "Nurul Hidayah"),
    ("Nur Hidayah", "Noer Hidayah"),
    ("Suyanto", "Soejanto"),
    ("Abdul Rahman", "Abd. Rahman"),
    ("Abdul Rahman", "Abdoel Rahman"),
    ("Ahmad Dahlan", "Achmad Dahlan"),
    ("Ahmad Dahlan", "Akhmad Dahlan"),
    # old spelling
    ("Suyono", "Soejono"),
    ("Sukarno", "Soekarno"),
    ("Joko Raharjo", "Djoko Rahardjo"),
    ("Cahyadi Wijaya", "Tjahjadi Widjaja"),
    ("Cipto", "Tjipto"),
    ("Syamsul", "Sjamsul"),
    ("Samsul", "Syamsul"),
    ("Suharto", "Soeharto"),
    # Arabic sounds written several ways
    ("Khoirul Anam", "Choirul Anam"),
    ("Khusnul Khotimah", "Chusnul Chotimah"),
    ("Sholeh", "Soleh"),
    ("Ramadhan", "Ramadan"),
    ("Luthfi", "Lutfi"),
    ("Hafidz", "Hafiz"),
    ("Qomariyah", "Komariyah"),
    ("Stephanus", "Stefanus"),
    # doubled letters and a closing y
    ("Anna", "Ana"),
    ("Yenny", "Yeni"),
    ("Dedy Kurniawan", "Dedi Kurniawan"),
    ("Rudy", "Rudi"),
    ("Syyamsul", "Samsul"),
    # joining words
    ("Ahmad bin Salim", "Ahmad Salim"),
    ("Al Fatih", "Alfatih"),
]

# Different names that must stay different.
DIFFERENT = [
    ("Jumadi", "Yumadi"),  # j -> y only in words that show old spelling
    ("Joko", "Yoko"),
    ("Hidajah", "Hidayah"),  # no old-spelling marker in the word itself: j stays
    ("Budi M.", "Budi Muhammad"),  # a closing M. is an initial, not Muhammad
    ("Siti Aminah", "Aminah"),  # dropping a word is a similarity, not the same key
    ("Agus Setiawan", "Agus Susanto"),
    ("Rina", "Rini"),
]


@pytest.mark.parametrize(("written", "elsewhere"), SAME_NAME)
def test_variants_share_a_key(written: str, elsewhere: str) -> None:
    assert normalise_name(written) == normalise_name(elsewhere)


@pytest.mark.parametrize(("one", "other"), DIFFERENT)
def test_different_names_stay_apart(one: str, other: str) -> None:
    assert normalise_name(one) != normalise_name(other)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Moch. Soejono, S.Pd.", "muhammad suyono"),
        ("Hj. St. Noer Chasanah", "siti nur hasanah"),
        ("Drs. H. Achmad Fauzi, M.M.", "ahmad fauzi"),
        ("Tjahjadi Widjaja", "cahyadi wijaya"),
        ("Jumadi", "jumadi"),
        ("", ""),
        ("H.", ""),
    ],
)
def test_keys(name: str, key: str) -> None:
    assert normalise_name(name) == key


def test_column_version_equals_the_scalar_one_on_the_table() -> None:
    names = [n for pair in SAME_NAME + DIFFERENT for n in pair]
    column = normalise_names(pl.Series("name", [*names, None]))
    assert column.to_list() == [normalise_name(n) for n in names] + [None]


_TOKENS = st.sampled_from(
    [
        "H.",
        "Hj.",
        "Drs.",
        "Dr",
        "Ir.",
        "S.Pd.",
        ",",
        ", S.E.",
        "M.",
        "Moch.",
        "St.",
        "Nur",
        "Soejono",
        "Tjahjadi",
        "Widjaja",
        "Djoko",
        "Anna",
        "Al",
        "bin",
        "Yenny",
        "Khoirul",
        "Muhammad",
        "Ma'ruf",
        "al-",
        "Siti",
        "Dédé",
        "   ",
        "-",
        ".",
        "Budi",
        "SYAMSUL",
    ]
)
_FREE = st.text(
    alphabet=st.sampled_from(list("abcdefghijklmnopqrstuvwxyzABCDJKMOSTY .,'-’`0é\tü")),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_TOKENS, _FREE), max_size=6))
def test_polars_and_python_agree(parts: list[str]) -> None:
    """The vectorised normaliser gives exactly the scalar one's key (property)."""
    name = " ".join(parts)
    assert normalise_names(pl.Series([name])).to_list() == [normalise_name(name)]
