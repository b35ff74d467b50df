#!/usr/bin/env python3
"""Checks of readyd's status page (t_status.sh).

  status_page.py validate FILE   strict structure: one doctype, every
                                 element closed in order, unique ids, no
                                 script, no asset or link off the page,
                                 the refresh meta; exit 1 on any error
  status_page.py rows FILE       one line per row: "check|group NAME
                                 CLASS BADGE out=yes|no"
  status_page.py colours PNG     the screenshot: row backgrounds down a
                                 column at the table's left edge, and the
                                 badge colours inside each row; prints
                                 "band KIND Y0-Y1 green=N red=N amber=N"
"""
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}
FORBIDDEN = {"script", "link", "img", "iframe", "object", "embed", "frame",
             "audio", "video", "source", "base", "form"}

# The colours render_html.c uses (row backgrounds and badges).
ROW = {"pass": (0xe6, 0xf4, 0xea), "fail": (0xfd, 0xe7, 0xe7),
       "amber": (0xff, 0xf4, 0xd6)}
BADGE = {"green": (0x1a, 0x7f, 0x37), "red": (0xc6, 0x28, 0x28),
         "amber": (0xf0, 0xa0, 0x00)}


class Strict(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.ids = [], [], set()
        self.doctype = 0
        self.refresh = False
        self.first = None

    def where(self):
        return "line %d col %d" % self.getpos()

    def handle_decl(self, decl):
        self.doctype += 1
        if decl.lower() != "doctype html":
            self.errors.append("%s: doctype %r" % (self.where(), decl))
        if self.first is not None:
            self.errors.append("%s: doctype after content" % self.where())

    def handle_starttag(self, tag, attrs):
        self.first = self.first or tag
        a = dict(attrs)
        if tag in FORBIDDEN:
            self.errors.append("%s: <%s> on a self-contained page" %
                               (self.where(), tag))
        for k, v in attrs:
            if k.startswith("on") or k in ("src", "srcset", "style"):
                self.errors.append("%s: attribute %s=%r" %
                                   (self.where(), k, v))
            if k == "href" and not (v or "").startswith("/"):
                self.errors.append("%s: link off the page: %r" %
                                   (self.where(), v))
        if "id" in a:
            if a["id"] in self.ids:
                self.errors.append("%s: duplicate id %r" %
                                   (self.where(), a["id"]))
            self.ids.add(a["id"])
        if tag == "meta" and a.get("http-equiv") == "refresh" and \
                a.get("content") == "5":
            self.refresh = True
        if tag not in VOID:
            self.stack.append((tag, self.where()))

    def handle_startendtag(self, tag, attrs):
        self.errors.append("%s: self-closing <%s/>" % (self.where(), tag))

    def handle_endtag(self, tag):
        if tag in VOID:
            self.errors.append("%s: end tag of void <%s>" %
                               (self.where(), tag))
            return
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append("%s: </%s> closes %s" % (
                self.where(), tag,
                "<%s> of %s" % self.stack[-1] if self.stack else "nothing"))
            return
        self.stack.pop()

    def unknown_decl(self, data):
        self.errors.append("%s: declaration %r" % (self.where(), data))


def validate(path):
    text = open(path, encoding="utf-8", errors="strict").read()
    p = Strict()
    p.feed(text)
    p.close()
    errs = list(p.errors)
    if p.doctype != 1:
        errs.append("%d doctypes (want 1)" % p.doctype)
    for tag, where in p.stack:
        errs.append("<%s> of %s never closed" % (tag, where))
    if p.first != "html":
        errs.append("first element <%s>, not <html>" % p.first)
    if not p.refresh:
        errs.append('no <meta http-equiv="refresh" content="5">')
    for e in errs:
        print(e)
    return 1 if errs else 0


class Rows(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self.cur, self.in_badge = [], None, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and ("data-check" in a or "data-group" in a):
            kind = "check" if "data-check" in a else "group"
            self.cur = [kind, a.get("data-" + kind), a.get("class"), "", "no"]
        elif self.cur and tag == "span" and \
                "badge" in (a.get("class") or "").split():
            self.in_badge = True
        elif self.cur and tag == "div" and a.get("class") == "out":
            self.cur[4] = "yes"

    def handle_endtag(self, tag):
        if tag == "span":
            self.in_badge = False
        elif tag == "tr" and self.cur:
            self.rows.append(self.cur)
            self.cur = None

    def handle_data(self, data):
        if self.in_badge and self.cur:
            self.cur[3] += data.strip().replace(" ", "_")


def rows(path):
    p = Rows()
    p.feed(open(path, encoding="utf-8").read())
    for kind, name, cls, badge, out in p.rows:
        print("%s %s %s %s out=%s" % (kind, name, cls, badge, out))
    return 0


def near(px, want, tol=8):
    return all(abs(a - b) <= tol for a, b in zip(px[:3], want))


def colours(path):
    from PIL import Image
    img = Image.open(path).convert("RGB")
    w, h = img.size
    pix = img.load()
    x = 26  # body margin 22 px: inside each row's left padding
    bands, cur = [], None
    for y in range(h):
        kind = next((k for k, c in ROW.items() if near(pix[x, y], c, 3)),
                    None)
        if cur and cur[0] == kind:
            cur[2] = y
            continue
        if cur and cur[0] is not None:
            bands.append(cur)
        cur = [kind, y, y]
    if cur and cur[0] is not None:
        bands.append(cur)
    print("size %dx%d" % (w, h))
    for kind, y0, y1 in bands:
        if y1 - y0 < 8:
            continue
        n = {k: 0 for k in BADGE}
        for y in range(y0, y1 + 1):
            for xx in range(w):
                p = pix[xx, y]
                for k, c in BADGE.items():
                    if near(p, c):
                        n[k] += 1
        print("band %s %d-%d green=%d red=%d amber=%d" %
              (kind, y0, y1, n["green"], n["red"], n["amber"]))
    return 0


if __name__ == "__main__":
    cmd, arg = sys.argv[1], sys.argv[2]
    sys.exit({"validate": validate, "rows": rows, "colours": colours}[cmd](arg))
