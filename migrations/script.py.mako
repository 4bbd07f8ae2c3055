"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
% if up_revision == "0001":

Generated from the models by `make migration` (models.migrate.regenerate_initial): before the
first release this one script is regenerated whenever the tables change. Do not edit it by hand.
% endif
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
${imports if imports else ""}

# revision identifiers, used by Alembic.
revision: str = ${repr(up_revision)}
down_revision: Union[str, Sequence[str], None] = ${repr(down_revision)}
branch_labels: Union[str, Sequence[str], None] = ${repr(branch_labels)}
depends_on: Union[str, Sequence[str], None] = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
