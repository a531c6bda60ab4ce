"""Pure code shared by every capability: models, errors, validation, workdir paths,
file trees and archives, image and user policy, preview origins. Imports nothing else of
the package, and nothing that does I/O."""
