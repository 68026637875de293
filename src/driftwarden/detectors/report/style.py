"""The report's CSS, scoped to ``.dwr`` so that the fragment shown in Jupyter restyles nothing else."""

from __future__ import annotations

CSS = """
.dwr{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 color:#1f2328;max-width:1240px;margin:0 auto;padding:20px 24px}
.dwr h1{font-size:22px;margin:0 0 2px}
.dwr h2{font-size:17px;margin:28px 0 8px;padding-bottom:4px;border-bottom:1px solid #d0d7de}
.dwr h3{font-size:15px;margin:0 0 4px;overflow-wrap:anywhere}
.dwr .verdict{font-size:18px;font-weight:600;padding:10px 14px;border-radius:6px;margin:8px 0 12px}
.dwr .verdict.drift{background:#fde8e8;color:#a40e26;border:1px solid #f3b4b4}
.dwr .verdict.ok{background:#e6f4ea;color:#1a6b34;border:1px solid #a8d5b5}
.dwr .facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0 0 8px}
.dwr .facts dt{color:#57606a}.dwr .facts dd{margin:0;overflow-wrap:anywhere}
.dwr .chips{margin:8px 0 0}.dwr .chips a{display:inline-block;margin:2px 6px 2px 0;padding:2px 8px;
 border-radius:12px;background:#fde8e8;color:#a40e26;text-decoration:none;font-size:13px}
.dwr table{border-collapse:collapse;font-size:13px}
.dwr .features th,.dwr .features td{border-bottom:1px solid #e5e7eb;padding:4px 8px;text-align:right;
 white-space:nowrap}
.dwr .features th{background:#f6f8fa;position:sticky;top:0}
.dwr .features .l{text-align:left}
.dwr .features td.name,.dwr .features td.note{white-space:normal;overflow-wrap:anywhere;min-width:120px;
 max-width:260px}
.dwr .features tr.drift td{background:#fff5f5}
.dwr .badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;font-weight:600}
.dwr .badge.drift{background:#d1242f;color:#fff}.dwr .badge.ok{background:#dafbe1;color:#1a6b34}
.dwr .badge.small{background:#fff8c5;color:#6e5600}.dwr .badge.err{background:#eaeef2;color:#57606a}
.dwr .kind{color:#57606a;font-size:12px;font-weight:normal}
.dwr .card{border:1px solid #d0d7de;border-left:4px solid #8c959f;border-radius:6px;padding:10px 14px;
 margin:0 0 14px;break-inside:avoid}
.dwr .card.drift{border-left-color:#d1242f}.dwr .card.ok{border-left-color:#2da44e}
.dwr .card.small{border-left-color:#bf8700}
.dwr .why{margin:0 0 8px;color:#3d444d;font-size:13px}
.dwr .plot{display:flex;flex-wrap:wrap;gap:8px 24px;align-items:flex-start}
.dwr .q th,.dwr .q td{padding:2px 8px;text-align:right;border-bottom:1px solid #eef0f2}
.dwr .q th:first-child{text-align:left;color:#57606a;font-weight:normal}
.dwr .legend{font-size:12px;color:#3d444d;margin:2px 0 0 56px}
.dwr .sw{display:inline-block;width:11px;height:11px;margin:0 4px 0 12px;vertical-align:-1px}
.dwr .sw:first-child{margin-left:0}
.dwr .note{color:#57606a;font-size:12px;margin:6px 0;max-width:420px}
.dwr .lead{color:#57606a;font-size:13px;margin:0 0 10px}
.dwr details summary{cursor:pointer;color:#0969da;margin:6px 0}
.dwr footer{color:#8c959f;font-size:12px;margin-top:24px}
"""

PAGE_CSS = "body{margin:0;background:#fff}"
