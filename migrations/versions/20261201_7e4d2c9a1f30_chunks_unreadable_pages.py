"""A done chunk lists the pages it could not read (hostile or too complex): not charged.

Revision ID: 7e4d2c9a1f30
Revises: b973b92c400a
Create Date: 2026-12-01 14:30:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '7e4d2c9a1f30'
down_revision = 'b973b92c400a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_chunks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unreadable_pages', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))


def downgrade():
    with op.batch_alter_table('job_chunks', schema=None) as batch_op:
        batch_op.drop_column('unreadable_pages')
