"""Alembic environment: the target schema is SQLModel.metadata (every table in models/).

Run through srdi.migrate (``srdi db upgrade``), which hands over an open connection in
``config.attributes["connection"]``; no alembic.ini is needed. Autogenerate renders types by
what the database stores (SQLModel's AutoString → String, UTCDateTime → DateTime(timezone=True))
so the scripts do not depend on SQLModel's type classes, and it writes the per-dialect DDL the
models attach to CREATE TABLE (the append-only triggers on ``transition``) into the script.
"""

from __future__ import annotations

from alembic import context
from alembic.autogenerate import renderers
from alembic.operations import ops
from sqlalchemy import DDL, Enum, Table, TypeDecorator
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on SQLModel.metadata)
from models.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def render_item(type_: str, obj, autogen_context):
    """Render a TypeDecorator as the SQLAlchemy type it stores, e.g. ``sa.String(length=64)``."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        impl = obj.impl_instance
        if type(impl).__module__.startswith("sqlalchemy.sql"):
            return f"sa.{impl!r}"
    return False


class DialectDDLOp(ops.MigrateOperation):
    """DDL a table's ``after_create`` listeners run, keyed by dialect name."""

    def __init__(self, table_name: str, statements: dict[str, list[str]]):
        self.table_name = table_name
        self.statements = statements


@renderers.dispatch_for(DialectDDLOp)
def _render_dialect_ddl(autogen_context, op: DialectDDLOp) -> str:
    lines = [f"# after CREATE TABLE {op.table_name} (declared in the models)"]
    for i, dialect in enumerate(sorted(op.statements)):
        keyword = "if" if i == 0 else "elif"
        lines.append(f"{keyword} op.get_bind().dialect.name == {dialect!r}:")
        for statement in op.statements[dialect]:
            lines.append(f"    op.execute(sa.DDL({statement!r}))")
    return "\n".join(lines)


class DropEnumTypesOp(ops.MigrateOperation):
    """PostgreSQL keeps an enum type when its tables are dropped; drop it with them."""

    def __init__(self, names: list[str]):
        self.names = names


@renderers.dispatch_for(DropEnumTypesOp)
def _render_drop_enum_types(autogen_context, op: DropEnumTypesOp) -> str:
    return "\n".join(
        [
            "if op.get_bind().dialect.name == 'postgresql':",
            f"    for name in {op.names!r}:",
            "        op.execute(sa.DDL(f'DROP TYPE IF EXISTS \"{name}\"'))",
        ]
    )


def native_enum_names(tables: list[Table]) -> list[str]:
    return sorted(
        {c.type.name for t in tables for c in t.columns if isinstance(c.type, Enum) and c.type.native_enum and c.type.name}
    )


def after_create_ddl(table: Table) -> dict[str, list[str]]:
    """The DDL statements a table's ``after_create`` event listeners run, per dialect."""
    statements: dict[str, list[str]] = {}
    for listener in table.dispatch.after_create:
        if not isinstance(listener, DDL):
            raise RuntimeError(f"表 {table.name} 的 after_create 监听器不是 DDL，无法写入迁移脚本：{listener!r}")
        condition = listener._ddl_if  # set by .execute_if(dialect=...)
        if condition is None or condition.dialect is None or condition.callable_ is not None:
            raise RuntimeError(f"表 {table.name} 的 DDL 须只以方言为条件（execute_if(dialect=...)）：{listener.statement}")
        dialects = [condition.dialect] if isinstance(condition.dialect, str) else sorted(condition.dialect)
        for dialect in dialects:
            statements.setdefault(dialect, []).append(listener.statement)
    return statements


def add_dialect_ddl(context_, revision, directives) -> None:
    """After each created table, append the DDL its models attach to CREATE TABLE."""
    script = directives[0]
    for upgrade_ops, downgrade_ops in zip(script.upgrade_ops_list, script.downgrade_ops_list):
        body, created = [], []
        for op in upgrade_ops.ops:
            body.append(op)
            if isinstance(op, ops.CreateTableOp) and op.table_name in target_metadata.tables:
                created.append(target_metadata.tables[op.table_name])
                ddl = after_create_ddl(created[-1])
                if ddl:
                    body.append(DialectDDLOp(op.table_name, ddl))
        upgrade_ops.ops = body
        enum_names = native_enum_names(created)
        if enum_names:
            downgrade_ops.ops.append(DropEnumTypesOp(enum_names))


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave alone tables srdi does not model (e.g. APScheduler's job store in the same database)."""
    return not (type_ == "table" and reflected and compare_to is None)


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=render_item,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
        process_revision_directives=add_dialect_ddl,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("srdi 不支持离线迁移（--sql）；请对数据库运行 srdi db upgrade")
run_migrations_online()
