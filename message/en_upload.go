package message

// enUpload are the English texts of the upload checks (package upload):
// the files of real-name verification and of support tickets.
var enUpload = map[string]string{
	"upload.type":           "This file isn't a JPEG, PNG or PDF.",
	"upload.corrupt":        "This file is damaged and can't be opened.",
	"upload.empty":          "This file is empty.",
	"upload.dimensions":     "This image is too big: it may have at most 32 million pixels and 10,000 pixels on each side.",
	"upload.too_large":      "This file is too large: each file may be at most 10 MB.",
	"upload.too_many":       "Too many files: send at most 5 at once.",
	"upload.unknown_part":   "This form doesn't take a file by this name.",
	"upload.duplicate_part": "This file was sent twice.",
	"upload.malformed":      "The upload couldn't be read. Please send it again.",
}
