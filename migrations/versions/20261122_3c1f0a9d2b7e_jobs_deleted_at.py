"""Jobs can be deleted by their owner: a soft delete, since the ledger points at them.

Revision ID: 3c1f0a9d2b7e
Revises: 17db737b8909
Create Date: 2026-11-22 16:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c1f0a9d2b7e'
down_revision = '17db737b8909'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
