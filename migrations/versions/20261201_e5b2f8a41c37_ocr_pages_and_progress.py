"""OCR in jobs: OCR time, empty and OCR pages per chunk, page progress.

Revision ID: e5b2f8a41c37
Revises: c4e1a7d2b9f0
Create Date: 2026-12-01 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'e5b2f8a41c37'
down_revision = 'c4e1a7d2b9f0'
branch_labels = None
depends_on = None


def _json():
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ocr_seconds', sa.Double(), server_default='0', nullable=False))
    with op.batch_alter_table('job_chunks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('empty_pages', _json(), nullable=True))
        batch_op.add_column(sa.Column('ocr_pages', _json(), nullable=True))
        batch_op.add_column(sa.Column('ocr_seconds', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('pages_done', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('job_chunks', schema=None) as batch_op:
        batch_op.drop_column('pages_done')
        batch_op.drop_column('ocr_seconds')
        batch_op.drop_column('empty_pages')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('ocr_seconds')
