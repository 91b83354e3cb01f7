import { CATEGORY_SLUGS, CLASS_NAMES, categoryLabel } from '../../lib/constants';
import { UserError } from '../../lib/errors';

/**
 * Parses a comma-separated list of categories (slugs such as `ankle-boot`, class names or label
 * numbers) into labels. An unknown name raises a UserError that lists the valid ones.
 */
export function parseCategories(list: string, option = '--categories'): number[] {
  const names = list.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (names.length === 0) {
    throw new UserError(`${option}: no category given; valid: ${CATEGORY_SLUGS.join(', ')}`);
  }
  return names.map((name) => {
    const label = categoryLabel(name);
    if (label < 0 || label >= CLASS_NAMES.length) {
      throw new UserError(
        `${option}: unknown category '${name}'; valid: ${CATEGORY_SLUGS.join(', ')}`,
      );
    }
    return label;
  });
}
