// What apps import as `<package>/client`: nothing here reaches into the server.
export { resumable, type ResumableOptions } from './resumable.ts';
export {
  OtClient,
  fromOperationFields,
  toOperationInput,
  type CommittedEdit,
  type OutgoingEdit,
  type OtClientOptions,
  type TextOp,
  type TextOpFields,
} from './ot-client.ts';
