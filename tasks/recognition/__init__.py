"""认定 and what follows: titles with their validity, 复核, 更名备案, revocation and bans."""
