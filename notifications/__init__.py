"""Mail and announcements: render (Jinja2) → outbox rows → send (aiosmtplib); 公示公告 pages."""
