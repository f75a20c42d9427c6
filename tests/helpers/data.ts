/**
 * The course data for tests that need it: its path, or a skip reason of one line when it is absent, so that
 * `npm test` passes on a clean machine and CI (with ../shared beside the checkout) still runs every test.
 *
 *   const styles = courseData("styles");
 *   test("…", { skip: styles.skip }, () => { loadStyles(styles.path!) … });
 */
import { resolveData, type DatasetName } from "../../lib/common/paths";

export function courseData(name: DatasetName): { path: string | null; skip: string | false } {
  try {
    return { path: resolveData(name), skip: false };
  } catch (e) {
    return { path: null, skip: `course data "${name}" not found (${(e as Error).message.split(/\.\s|\n/)[0]})` };
  }
}
