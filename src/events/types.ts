/** Docker's event message shape: the names and attributes clients filter on. */
export interface EngineEvent {
  Type: 'container' | 'image' | 'volume' | 'network' | 'daemon' | 'plugin';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  /** Legacy fields docker still sends for containers and images. */
  status?: string;
  id?: string;
  from?: string;
}
