"""The public catalogue at national scale: search latency and the first page's weight.

    python bench/catalogue_search.py                      # SQLite in a temporary file
    python bench/catalogue_search.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Seeds 5,000 producers in 34 provinces and 20,000 products (85% with a valid
OCOP certificate, the rest lapsed; a third with a photo), by bulk Core inserts,
then runs 100 searches twice: as typed with diacritics ("bánh cáy") and
without ("banh cay"). Each search is the catalogue's own query (count, one page
of ids, the page's entries), timed end to end; the figures are the median and
p95 in milliseconds. Every pair must return the same products, and every total
must equal a brute-force count in Python over the folded names: the run fails
loudly otherwise. Then it weighs the first page of /san-pham as a phone loads
it: the HTML, both style sheets and the distinct images.

On PostgreSQL the run uses a schema of its own and drops it afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import insert, select, text

from ocop.trace.catalogue import CatalogueQuery, search_catalogue
from ocop.trace.db import Database, load_models, scratch_schema, vietnam_today
from ocop.trace.folding import fold, product_search_text
from ocop.trace.models import (
    Address,
    Certification,
    CertLevel,
    CertStatus,
    Organisation,
    OrgKind,
    Product,
    Scheme,
)
from ocop.web import create_app

PROVINCES = [
    "Hà Nội", "Huế", "Lai Châu", "Điện Biên", "Sơn La", "Lạng Sơn", "Quảng Ninh", "Thanh Hóa",
    "Nghệ An", "Hà Tĩnh", "Cao Bằng", "Tuyên Quang", "Lào Cai", "Thái Nguyên", "Phú Thọ",
    "Bắc Ninh", "Hưng Yên", "Hải Phòng", "Ninh Bình", "Quảng Trị", "Đà Nẵng", "Quảng Ngãi",
    "Gia Lai", "Khánh Hòa", "Lâm Đồng", "Đắk Lắk", "TP. Hồ Chí Minh", "Đồng Nai", "Tây Ninh",
    "Cần Thơ", "Vĩnh Long", "Đồng Tháp", "Cà Mau", "An Giang",
]  # fmt: skip
ITEMS = [
    "Bánh cáy", "Bánh đa sợi", "Mật ong rừng", "Chè Shan tuyết", "Nước mắm", "Gạo tám thơm",
    "Cà phê Robusta", "Mứt gừng", "Rượu nếp cái hoa vàng", "Tương bần", "Miến dong",
    "Trà hoa vàng", "Hạt điều rang muối", "Nem chua", "Chả mực", "Kẹo dừa", "Bưởi Diễn",
    "Xoài cát Hòa Lộc", "Tỏi Lý Sơn", "Sâm Ngọc Linh", "Đông trùng hạ thảo", "Măng khô",
    "Lụa tơ tằm", "Chiếu cói", "Gốm Bát Tràng", "Nón lá", "Mắm tôm", "Bánh pía", "Cốm làng Vòng",
    "Giò lụa", "Tinh dầu sả chanh", "Đường thốt nốt", "Khô cá lóc", "Bột sắn dây", "Chuối sấy",
]  # fmt: skip
QUALIFIERS = ["đặc biệt", "truyền thống", "hữu cơ", "thượng hạng", "gia truyền", "loại một",
              "đóng hộp", "túi giấy", "quà biếu", "xuất khẩu"]  # fmt: skip
SECTORS = ["Thực phẩm", "Đồ uống", "Thảo dược", "Vải và may mặc", "Lưu niệm - nội thất - trang trí",
           "Dịch vụ du lịch cộng đồng"]  # fmt: skip
KINDS = [OrgKind.ENTERPRISE, OrgKind.COOPERATIVE, OrgKind.COOPERATIVE_GROUP,
         OrgKind.HOUSEHOLD_BUSINESS]  # fmt: skip
IMAGES = ["banh-cay.svg", "banh-da-soi.svg", "mat-ong.svg"]
PAGE_TARGET = 60_000


@contextmanager
def database(url: str | None) -> Iterator[str]:
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    with scratch_schema(url, "ocop_bench") as scratch:
        yield scratch


def seed(db: Database, producers: int, products: int, rng: random.Random) -> list[str]:
    """Bulk-insert the records; the product names, for the brute-force check."""
    today = vietnam_today()
    names = []
    with db.transaction() as session:
        session.execute(
            insert(Organisation),
            [
                {"id": i, "kind": rng.choice(KINDS), "name": f"HTX {rng.choice(ITEMS)} số {i}",
                 "tax_code": f"B{i:09d}", "sample": False, "listed_as_seller": True}
                for i in range(1, producers + 1)
            ],
        )  # fmt: skip
        session.execute(
            insert(Address),
            [
                {"organisation_id": i, "province": rng.choice(PROVINCES), "country": "VN",
                 "effective_from": dt.date(2025, 7, 1)}
                for i in range(1, producers + 1)
            ],
        )  # fmt: skip
        rows, certs = [], []
        for i in range(1, products + 1):
            name = f"{rng.choice(ITEMS)} {rng.choice(QUALIFIERS)} {rng.choice(PROVINCES)} {i}"
            names.append(name)
            rows.append(
                {"id": i, "code": f"BP{i:06d}", "producer_id": rng.randint(1, producers),
                 "name": name, "sector": rng.choice(SECTORS), "approved": True,
                 "image": IMAGES[i % 3] if i % 3 == 0 else None,
                 "search_text": product_search_text(name, None)}
            )  # fmt: skip
            lapsed = rng.random() < 0.15
            start = today - dt.timedelta(days=1300 if lapsed else rng.randint(1, 900))
            certs.append(
                {"scheme": Scheme.OCOP, "number": f"BOCOP-{i}", "product_id": i,
                 "stars": rng.choice((3, 3, 3, 4, 4, 5)), "level": CertLevel.PROVINCE,
                 "issuing_body": "UBND tỉnh", "valid_from": start,
                 "valid_until": start + dt.timedelta(days=1095), "status": CertStatus.VALID}
            )  # fmt: skip
        session.execute(insert(Product), rows)
        session.execute(insert(Certification), certs)
        # Statistics, as after any big import: without them SQLite reads a product's
        # certificates through the (scheme, number) index, all 20,000 of them.
        for table in ("organisations", "addresses", "products", "certifications"):
            session.execute(text(f"ANALYZE {table}"))
    return names


def queries(rng: random.Random, count: int) -> list[str]:
    """Searches as people type them: one or two words of a product, with diacritics."""
    found = []
    for _ in range(count):
        words = f"{rng.choice(ITEMS)} {rng.choice(QUALIFIERS)}".lower().split()
        start = rng.randrange(len(words))
        found.append(" ".join(words[start : start + rng.choice((1, 2, 2))]))
    return found


def time_searches(db: Database, asked: list[str]) -> tuple[list[float], list[tuple[int, ...]]]:
    today = vietnam_today()
    took, results = [], []
    with db.read_sessionmaker() as session:
        for q in asked:
            start = time.perf_counter()
            page = search_catalogue(session, CatalogueQuery.parse({"q": q}), today)
            took.append((time.perf_counter() - start) * 1000)
            results.append((page.total, *(hash(e.code) for e in page.entries)))
    return took, results


def certified_names(db: Database, names: list[str]) -> list[str]:
    today = vietnam_today()
    with db.read_sessionmaker() as session:
        valid = set(
            session.scalars(
                select(Certification.product_id).where(
                    Certification.valid_from <= today, Certification.valid_until >= today
                )
            )
        )
    return [name for i, name in enumerate(names, start=1) if i in valid]


def check(asked: list[str], accented: list, plain: list, names: list[str]) -> None:
    folded = [fold(n) for n in names]
    for q, a, p in zip(asked, accented, plain, strict=True):
        if a != p:
            raise SystemExit(f"MISMATCH: {q!r} and {fold(q)!r} found different products")
        expected = sum(all(t in f for t in fold(q).split()) for f in folded)
        if a[0] != expected:
            raise SystemExit(f"MISMATCH: {q!r} found {a[0]} products, brute force {expected}")


def summary(label: str, took: list[float]) -> str:
    ordered = sorted(took)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return f"{label:<22} median {statistics.median(ordered):7.2f} ms   p95 {p95:7.2f} ms"


def page_weight(url: str) -> None:
    app = create_app({"database_url": url, "rate_limit": None, "secret_key": "bench"})
    client = app.test_client(use_cookies=False)
    client.get("/san-pham")  # warm the facets cache and the templates
    start = time.perf_counter()
    response = client.get("/san-pham")
    took = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"/san-pham answered {response.status_code}")
    html = response.get_data(as_text=True)
    links = re.findall(r'(?:href|src)="(/(?:static|media)/[^"?]+)"', html)
    assets = {link: len(client.get(link).data) for link in dict.fromkeys(links)}
    css = sum(n for link, n in assets.items() if link.endswith(".css"))
    images = sum(n for link, n in assets.items() if not link.endswith(".css"))
    total = len(response.data) + css + images
    print(
        f"first page of /san-pham: HTML {len(response.data):,} B, CSS {css:,} B, "
        f"{len(assets) - 2} images {images:,} B; total {total:,} B "
        f"(target < {PAGE_TARGET:,}); built in {took:.1f} ms"
    )
    app.extensions["ocop.db"].dispose()
    if total >= PAGE_TARGET:
        raise SystemExit(f"PAGE TOO HEAVY: {total:,} bytes")


def explain(db: Database, q: str) -> None:
    if db.engine.dialect.name != "postgresql":
        return
    sql = (
        "EXPLAIN SELECT id FROM products WHERE"
        " ocop_fold(products.name || ' ' || coalesce(products.short_name, '')) LIKE ocop_fold(:p)"
    )
    with db.read_sessionmaker() as session:
        plan = session.execute(text(sql), {"p": f"%{fold(q)}%"}).scalars()
        used = any("ix_products_search_fold" in line for line in plan)
    print(f"PostgreSQL plan for {q!r} uses ix_products_search_fold: {used}")
    if not used:
        raise SystemExit("the search does not use its trigram index")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: SQLite in a temporary file")
    parser.add_argument("--producers", type=int, default=5_000)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    rng = random.Random(18)
    load_models()
    with database(args.database_url) as url:
        db = Database.from_url(url)
        db.upgrade()
        start = time.perf_counter()
        names = seed(db, args.producers, args.products, rng)
        print(
            f"{db.engine.dialect.name}: {args.producers:,} producers, {args.products:,} products "
            f"seeded in {time.perf_counter() - start:.1f} s"
        )
        asked = queries(rng, args.queries)
        time_searches(db, asked[:10])  # warm caches
        accented, found_a = time_searches(db, asked)
        plain, found_p = time_searches(db, [fold(q) for q in asked])
        check(asked, found_a, found_p, certified_names(db, names))
        print(f"{args.queries} searches, same products with and without diacritics: checked")
        print(summary("with diacritics", accented))
        print(summary("without diacritics", plain))
        explain(db, "banh cay")
        db.dispose()
        page_weight(url)


if __name__ == "__main__":
    main()
