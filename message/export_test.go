package message

import "io/fs"

// Load reads a catalogue tree as the package reads its own, for tests of
// the loader's refusals.
func Load(fsys fs.FS, root string) error {
	_, err := load(fsys, root)
	return err
}

// Tables returns, for each language, each table's keys: the files as the
// package read them.
func Tables() map[string]map[string][]string {
	out := map[string]map[string][]string{}
	for name, t := range loaded.langs {
		out[name] = map[string][]string{}
		for key, file := range t.keys {
			out[name][file] = append(out[name][file], key)
		}
	}
	return out
}
