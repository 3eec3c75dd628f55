// What apps import as `<package>/client`: nothing here reaches into the server.
export { resumable, type ResumableOptions } from './resumable.ts';
