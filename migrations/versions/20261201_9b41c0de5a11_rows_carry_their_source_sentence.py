"""Rows carry their source sentence, and rows left over the limit their reading units.

Revision ID: 9b41c0de5a11
Revises: 7e4d2c9a1f30
Create Date: 2026-12-01 15:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


# revision identifiers, used by Alembic.
revision = '9b41c0de5a11'
down_revision = '7e4d2c9a1f30'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_sentences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_text', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('over_limit', sa.Boolean(), server_default=sa.false(), nullable=False))
        # Existing rows have no units: an empty list, written by the application type.
        batch_op.add_column(sa.Column('units', JSON, nullable=True))
    op.execute("UPDATE job_sentences SET units = '[]'")
    with op.batch_alter_table('job_sentences', schema=None) as batch_op:
        batch_op.alter_column('units', existing_type=JSON, nullable=False)


def downgrade():
    with op.batch_alter_table('job_sentences', schema=None) as batch_op:
        batch_op.drop_column('units')
        batch_op.drop_column('over_limit')
        batch_op.drop_column('source_text')
